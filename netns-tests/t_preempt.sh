#!/usr/bin/env bash
# Restore the higher-priority host's link: with preempt (the default) it takes the VIP back;
# with preempt = false on both it stays backup and the VIP stays where it is.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init pr

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24

# setup EXTRA_TOML...: a (150) master, b (100) backup, then a's link cut and b master.
setup() {
	vip_instance 150 100ms "$@" | vipd_conf a
	vip_instance 100 100ms "$@" | vipd_conf b
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "a (150) to become master" is_state a web master
	start_vipd b "$LAB_DIR/b.toml"
	wait_until 5 "b (100) to be backup" is_state b web backup
	wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
	cut_link a
	wait_until 5 "b to take over after a's link was cut" is_state b web master
	wait_until 3 "$VIP4 on b only" only_holder "$VIP4" b a b
}

# 1. preempt = true (default): a takes the VIP back.
setup
monitor_start a
t0=$(now_ms)
restore_link a
wait_until 5 "a (150, preempt) to become master again after its link came back" is_state a web master
wait_until 3 "b to step back to backup" is_state b web backup
wait_until 3 "$VIP4 back on a only" only_holder "$VIP4" a a b
ev=$(addr_event_ms a "$VIP4" add "$t0") || fail "no add event for $VIP4 on a"
ms=$((ev - t0))
metric failback_ms "$ms"
grep -q "instance=web from=master to=backup" "$LAB_DIR/b.vipd.log" || fail "b logged no 'from=master to=backup'"
always_for 1 "a master with the VIP, b backup without it" roles web "$VIP4" a b
ok "preempt: a took $VIP4 back $ms ms after its link returned"
stop_agent a TERM
stop_agent b TERM

# 2. preempt = false on both: a comes back as backup and stays so.
setup 'preempt = false'
restore_link a
wait_until 5 "a (150, preempt=false) to leave fault for backup" is_state a web backup
always_for 2 "a (preempt=false) stays backup and b keeps the VIP" roles web "$VIP4" b a
ok "no preempt: a stayed backup for 2 s, b kept $VIP4"
pass
