#!/usr/bin/env bash
# The lab itself, with keepalived on both ends (no vipd): two keepalived elect, fail over and
# fail back. If this fails, the lab or the machine is broken, not vipd.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init lb

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
keepalived_conf a 3 150 0.1
keepalived_conf b 3 100 0.1
capture_start cap
monitor_start b
start_keepalived a "$LAB_DIR/a.keepalived.conf"
start_keepalived b "$LAB_DIR/b.keepalived.conf"

wait_until 10 "keepalived a to enter MASTER" is_keepalived_state a MASTER
wait_until 10 "keepalived b to enter BACKUP" is_keepalived_state b BACKUP
wait_until 5 "the VIP only on a" only_holder "$VIP4" a a b
ok "a (150) is master and holds $VIP4; b is backup"

wait_until 5 "10 adverts from a on the wire" cap_at_least 10 "$ADV && ip.src == 10.99.0.1"
bad=$(cap_fields "$ADV" ip.src ip.dst ip.ttl ip.dsfield | grep -v '^10.99.0.1 224.0.0.18 255 0xc0$' || true)
[[ -z $bad ]] || fail "adverts not from 10.99.0.1 to 224.0.0.18 with TTL 255, TOS 0xc0: $bad"
ok "adverts: 10.99.0.1 -> 224.0.0.18, TTL 255, TOS 0xc0"

takeover_after_cut a b "$VIP4" 5 failover_ms
ms=$TAKEOVER_MS
((ms < 3 * 100 + 60 + 500)) || fail "failover took $ms ms"
wait_until 5 "a to drop $VIP4 (FAULT)" not has_addr a "$VIP4"
ok "cut a: b took over in $ms ms; a dropped the VIP"

restore_link a
wait_until 10 "the VIP back on a only" only_holder "$VIP4" a a b
ok "link restored: a took the VIP back"
capture_stop
pass
