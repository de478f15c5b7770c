#!/usr/bin/env bash
# Three hosts, priorities 200/150/100 (500 ms adverts): the 200 is master; cut it and the 150
# takes over, never the 100 (its master-down timer is 100 ms longer).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init t3

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.3/24
vip_instance 200 500ms | vipd_conf a
vip_instance 150 500ms | vipd_conf b
vip_instance 100 500ms | vipd_conf c
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (200) to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
start_vipd c "$LAB_DIR/c.toml"
wait_until 5 "b (150) and c (100) to be backups" roles web "$VIP4" a b c
always_for 1 "a master alone with $VIP4" roles web "$VIP4" a b c
ok "a (200) master with $VIP4, b and c backups"

monitor_start c
t0=$(now_ms)
cut_link a
wait_until 5 "b (150) to take over after a's link was cut" is_state b web master
wait_until 3 "$VIP4 on b only" only_holder "$VIP4" b a b c
ms=$(($(now_ms) - t0))
metric takeover_ms "$ms"
after_cut() { is_state b web master && is_state c web backup && only_holder "$VIP4" b a b c; }
always_for 2 "b master, c backup, $VIP4 on b only" after_cut
not has_addr_event c "$VIP4" add "$t0" || fail "c (100) added $VIP4 during the failover"
not grep -q "to=master" "$LAB_DIR/c.vipd.log" || fail "c (100) became master at some point: $(grep "to=master" "$LAB_DIR/c.vipd.log")"
ok "b (150) took over, c (100) never held $VIP4 or became master"
pass
