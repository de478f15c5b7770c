#!/usr/bin/env bash
# VRRPv3 backups learn the master's advert interval: master a at 100 ms, backup b configured
# with 1 s. b must use 3 x 100 ms + skew to detect a's failure, not 3 x 1 s.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init ln

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
vip_instance 150 100ms | vipd_conf a
vip_instance 100 1s | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150, 100 ms) to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100, 1 s) to be backup" is_state b web backup
always_for 1 "a master alone with $VIP4, b backup" roles web "$VIP4" a b
learned=$(vipd_field b web master_advert_interval_ms)
ok "b backup; it reports master_advert_interval_ms=$learned"

monitor_start b
takeover_after_cut a b "$VIP4" 6 failover_ms_learned
ms=$TAKEOVER_MS
bound=$(takeover_bound_ms 100 100)
((ms < bound)) || fail "b took $ms ms: it did not learn a's 100 ms interval (bound $bound ms; with its own 1 s: 3609 ms)"
ok "b took over $ms ms after the cut, using the learned 100 ms interval"
pass
