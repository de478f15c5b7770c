#!/usr/bin/env bash
# Addresses vipd did not add are never deleted. Host a owns 10.99.0.1 (its primary address,
# priority 255), masters a plain VIP 10.99.0.50, and is backup for 10.99.0.60, which an
# operator also configured on a by hand. Through start, kill -9, restart and SIGTERM: the
# owner's address is never deleted and the owner never goes to fault; the hand-made
# 10.99.0.60 is never deleted (a warning says why); only 10.99.0.50, which vipd added and
# tagged, is removed as a leftover after the crash and at exit.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init ow

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
{
	named_instance own 61 255 10.99.0.1
	named_instance web 51 200 10.99.0.50
	named_instance static 71 100 10.99.0.60
} | vipd_conf a
named_instance static 71 200 10.99.0.60 | vipd_conf b

nsx a ip addr add 10.99.0.60/24 dev eth0
monitor_start a
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b to master static" is_state b static master

never_deleted() { # ADDR: no delete event for ADDR on a so far
	not has_addr_event a "$1" del 0 || fail "a's $1 was deleted (see $LAB_DIR/a.mon)"
}
settled() { is_state a own master && is_state a web master && is_state a static backup; }

start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a: own and web master, static backup" settled
has_addr a 10.99.0.1 || fail "the owner's address is gone after start"
grep -q 'vipd did not add it' "$LAB_DIR/a.vipd.log" || fail "no warning about the hand-made 10.99.0.60"
always_for 1 "a keeps its roles (the owner never faults)" settled
never_deleted 10.99.0.1
never_deleted 10.99.0.60
ok "start: owner master with its own address, hand-made VIP left alone and warned about"

stop_agent a KILL
has_addr a 10.99.0.50 || fail "kill -9 should leave the VIP behind"
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to settle again after kill -9" settled
log_now=$(awk '/^=== .* START /{n = NR} {l[NR] = $0} END {for (i = n + 1; i <= NR; i++) print l[i]}' "$LAB_DIR/a.vipd.log")
grep -q 'left by a previous run.*10\.99\.0\.50\|10\.99\.0\.50.*left by a previous run' <<<"$log_now" ||
	fail "the tagged leftover 10.99.0.50 was not removed at restart"
if grep 'left by a previous run' <<<"$log_now" | grep -qE '10\.99\.0\.(1|60)[^0-9]'; then
	fail "an address vipd did not add was treated as a leftover"
fi
has_addr_event a 10.99.0.50 del 0 || fail "no delete event for the leftover 10.99.0.50"
never_deleted 10.99.0.1
never_deleted 10.99.0.60
ok "kill -9 and restart: only vipd's own leftover removed"

stop_agent a TERM
((AGENT_RC == 0)) || fail "vipd exited $AGENT_RC on SIGTERM"
has_addr a 10.99.0.1 || fail "the owner's address is gone after exit"
has_addr a 10.99.0.60 || fail "the hand-made 10.99.0.60 is gone after exit"
not has_addr a 10.99.0.50 || fail "vipd's VIP 10.99.0.50 is still on a after exit"
never_deleted 10.99.0.1
ok "exit: owner and hand-made addresses kept, vipd's VIP removed"
pass
