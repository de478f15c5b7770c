#!/usr/bin/env bash
# kill -9 the master: its VIP stays behind on the interface, the backup takes over. Restart the
# killed agent: it removes the stale VIP before joining the election, then (higher priority,
# preempt) takes over again; once settled, never do both hosts hold the VIP.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init k9

pair_up 100ms

stop_agent a KILL
has_addr a "$VIP4" || fail "precondition: after SIGKILL the kernel should still have $VIP4 on a"
wait_until 5 "b to take over from the killed a" is_state b web master
wait_until 3 "b to add $VIP4" has_addr b "$VIP4"
ok "a killed (VIP left behind on a), b master with $VIP4"

monitor_start a
t0=$(now_ms)
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "the restarted a to remove the stale $VIP4" has_addr_event a "$VIP4" del "$t0"
del=$(addr_event_ms a "$VIP4" del "$t0")
wait_until 5 "the restarted a (150, preempt) to become master" is_state a web master
wait_until 3 "$VIP4 on a only" roles web "$VIP4" a b
add=$(addr_event_ms a "$VIP4" add "$t0") || fail "no add event for $VIP4 on a after the restart"
((del <= add)) || fail "a re-added $VIP4 before removing the stale one"
metric stale_removed_ms $((del - t0))
metric retake_ms $((add - t0))
ok "restarted a removed the stale VIP after $((del - t0)) ms and took over after $((add - t0)) ms"
always_for 2 "a master alone holding $VIP4, b backup" roles web "$VIP4" a b
ok "settled: only a holds $VIP4"
pass
