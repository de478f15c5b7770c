#!/usr/bin/env bash
# kill -9 / restart loop: ten times, after a random 0-1 s kill -9 the higher-priority agent (a,
# 150), wait a random 0-1 s (b may or may not have taken over by then), restart it. After each
# round, once settled: exactly one host holds the VIP and it is the master per status (a, by
# preemption; the restart must clear the VIP the killed agent left behind). b never dies.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init c9

ROUNDS=10
pair_up 100ms

rand_s() { printf '%d.%03d' 0 $((RANDOM % 1000)); }
max=0 b_took=0
for r in $(seq "$ROUNDS"); do
	d1=$(rand_s) d2=$(rand_s)
	sleep "$d1" # fault timing, not synchronisation: the kill lands at a random point
	stop_agent a KILL
	sleep "$d2"
	is_state b web master && b_took=$((b_took + 1))
	t0=$(now_ms)
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "round $r: a (150) master alone with $VIP4, b backup" roles web "$VIP4" a b
	ms=$(($(now_ms) - t0))
	always_for 0.5 "round $r: a master alone with $VIP4, b backup (settled)" roles web "$VIP4" a b
	((ms > max)) && max=$ms
	agents_running b || fail "round $r: b's agent died"
	echo "  round $r: killed after ${d1}s, restarted after ${d2}s; settled $ms ms after the restart"
done
always_for 2 "a master alone with $VIP4, b backup (after the loop)" roles web "$VIP4" a b
agents_running a b || fail "an agent is not running at the end"
for h in a b; do vipd_status "$h" >/dev/null || fail "$h's agent does not answer status at the end"; done
metric rounds "$ROUNDS"
metric b_took_over "$b_took"
metric settle_ms_max "$max"
ok "$ROUNDS kill -9/restart rounds (b took over in $b_took): each settled with one VIP holder, a master"
pass
