#!/usr/bin/env bash
# The three-backup race at 10 ms adverts: a (150) master, b (120) and c (100) backups. Their
# master-down intervals are 35.312 and 36.093 ms: 0.78 ms apart, so only exact skew and
# sub-millisecond timers let b's first advert as master reach c before c's own timer runs
# out. Five times: cut a's link, b takes over, c never adds the VIP nor becomes master; a
# comes back and preempts.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init t3f
ROUNDS=5

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.3/24
vip_instance 150 10ms | vipd_conf a
vip_instance 120 10ms | vipd_conf b
vip_instance 100 10ms | vipd_conf c
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
start_vipd c "$LAB_DIR/c.toml"
wait_until 5 "b (120) and c (100) to be backups" roles web "$VIP4" a b c
monitor_start c
t0=$(now_ms)
for r in $(seq "$ROUNDS"); do
	always_for 0.3 "round $r: a master alone with $VIP4" roles web "$VIP4" a b c
	cut_link a
	wait_until 3 "round $r: b (120) to take over" is_state b web master
	wait_until 3 "round $r: $VIP4 on b only" only_holder "$VIP4" b a b c
	restore_link a
	wait_until 5 "round $r: a (150) to preempt b" roles web "$VIP4" a b c
done
not has_addr_event c "$VIP4" add "$t0" || fail "c (100) added $VIP4 in one of the $ROUNDS takeovers"
not grep -q "to=master" "$LAB_DIR/c.vipd.log" || fail "c (100) became master: $(grep "to=master" "$LAB_DIR/c.vipd.log")"
ok "$ROUNDS takeovers at 10 ms adverts: b (120) each time, c (100) never held $VIP4"
pass
