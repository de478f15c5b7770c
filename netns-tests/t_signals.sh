#!/usr/bin/env bash
# Signals an operator or a keepalived-era tool may send (USR1, USR2, PIPE, ALRM, HUP) never
# kill the agent: after each, the master is alive, still master, still holds the VIP, and
# answers status; the backup never took over. USR1 dumps the status to the log, USR2 the
# counters.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sg

pair_up 100ms
pid=${LAB_PID_OF[a]}
for sig in USR1 USR2 PIPE ALRM HUP; do
	lab_kill "$sig" "$pid"
	# The agent handles a signal within one loop turn; status proves the loop still runs.
	wait_until 2 "a to answer status after SIG$sig" vipd_status a >/dev/null
	alive "$pid" || fail "SIG$sig killed the agent"
	roles web "$VIP4" a b || fail "roles changed after SIG$sig"
	ok "SIG$sig: alive, master, VIP held"
done
wait_until 2 "the SIGUSR1 status dump" grep -q 'status instance=web state=master' "$LAB_DIR/a.vipd.log"
wait_until 2 "the SIGUSR2 counter dump" grep -q 'counters (SIGUSR2) instance=web adverts_received=' "$LAB_DIR/a.vipd.log"
[[ $(state_changes b) == 1 ]] || fail "b changed state during the signals: $(state_change_lines b 0)"
ok "USR1 logged the status, USR2 the counters; b stayed backup throughout"
pass
