#!/usr/bin/env bash
# Link-flapping storm: the master's bridge-side veth goes down and up every 100-150 ms for 5 s
# (its eth0 loses and regains carrier each time: fault, backup, master, ...), then stays up.
# Both agents survive, and once the link is steady a (150, preempt) is again the only master
# and the only holder of the VIP, within a bounded wait, and stays so.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init cf

pair_up 100ms

la0=$(state_changes a web) lb0=$(state_changes b web)
flap_link a 5 100 150
t0=$(now_ms)
agents_running a b || fail "an agent died during the flapping storm"
ok "$FLAPS flaps of a's link in 5 s; both agents running"
metric flaps "$FLAPS"
metric transitions_a $(($(state_changes a web) - la0))
metric transitions_b $(($(state_changes b web) - lb0))
((FLAPS >= 15)) || fail "only $FLAPS flaps in 5 s: the storm did not happen"
(($(state_changes a web) - la0 >= 2)) || fail "a logged no state change during $FLAPS carrier losses (expected fault/backup)"

wait_until 5 "a (150) master alone with $VIP4, b backup, after the storm" roles web "$VIP4" a b
metric converge_ms $(($(now_ms) - t0))
always_for 2 "a master alone with $VIP4, b backup (link steady)" roles web "$VIP4" a b
agents_running a b || fail "an agent died after the storm"
for h in a b; do
	vipd_status "$h" >/dev/null || fail "$h's agent no longer answers status"
	not grep -q panicked "$LAB_DIR/$h.vipd.log" || fail "$h's agent panicked: $(grep -m1 panicked "$LAB_DIR/$h.vipd.log")"
done
ok "storm over: a alone holds $VIP4, b backup, both agents answer"
pass
