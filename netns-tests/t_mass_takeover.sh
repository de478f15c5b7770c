#!/usr/bin/env bash
# Mass takeover: 250 instances per agent (VRIDs 1..250 on eth0, 100 ms adverts), each with 4 /32
# VIPs (10.99.11-14.VRID: 1,000 VIPs); a has priority 150 for all, b 100.
# - a alone master of all 250 with the 1,000 VIPs, b backup of all with none, and quiet for 2 s:
#   b's log holds only its 250 start-up lines (init -> backup), no false takeover.
# - a's adverts are dropped on output (nft, protocol 112): b becomes master of all 250 and holds
#   all 1,000 VIPs, each of b's instances logging exactly one change, backup -> master. a still
#   hears b's lower-priority adverts, so by the RFC it stays master (and keeps its VIPs): a logs
#   no change at all.
# - the drop is removed: b hears a's 150 again and gives every instance back: each of b's
#   instances logs exactly one change, master -> backup, b holds no VIP, a holds all 1,000 and is
#   master of all 250; again no change on a.
# Behaviour only: every wait is a generous bound for a loaded machine, never a speed target
# (bench_timing.sh's "mass" section measures the times and advert gaps).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init mt

N=250
RE='^10\.99\.1[1-4]\.'
lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
# mass_conf PRIO: the N instances with their 4 VIPs each.
mass_conf() {
	local v
	for v in $(seq "$N"); do
		printf '[[instance]]\nname = "m%d"\ninterface = "eth0"\nvrid = %d\npriority = %d\n' "$v" "$v" "$1"
		printf 'advert_interval = "100ms"\nvirtual_addresses = ["10.99.11.%d/32", "10.99.12.%d/32", "10.99.13.%d/32", "10.99.14.%d/32"]\n\n' "$v" "$v" "$v" "$v"
	done
}
mass_conf 150 | vipd_conf a
mass_conf 100 | vipd_conf b

# in_state HOST STATE: how many of HOST's instances are in STATE, by its status.
in_state() { vipd_status "$1" | jq --arg s "$2" '[.instances[] | select(.state == $s)] | length' 2>/dev/null || echo 0; }
# holds_all MASTER OTHER: MASTER master of all N with the 4N VIPs, OTHER backup of all with none.
holds_all() {
	(($(vip_count "$1" "$RE") == 4 * N && $(vip_count "$2" "$RE") == 0)) &&
		(($(in_state "$1" master) == N && $(in_state "$2" backup) == N))
}
# counts_are A B: a's and b's logs hold A and B state-change lines.
counts_are() { [[ $(state_changes a) == "$1" && $(state_changes b) == "$2" ]]; }
# each_once HOST FROM_LINE FROM TO: the state-change lines of HOST after its first FROM_LINE are
# exactly one per instance, each FROM -> TO (else fails with the first offending lines).
each_once() {
	local host=$1 since=$2 from=$3 to=$4 why
	why=$(state_change_lines "$host" "$since" | awk -v n="$N" -v f="$from" -v t="$to" '
		{
			i = $0; sub(/.* state change instance=/, "", i); sub(/ .*/, "", i)
			a = $0; sub(/.* from=/, "", a); sub(/ .*/, "", a); gsub(/"/, "", a)
			b = $0; sub(/.* to=/, "", b); sub(/ .*/, "", b); gsub(/"/, "", b)
			if (a != f || b != t) { bad++; if (bad <= 3) print "unexpected: " $0 }
			if (++c[i] == 2) { twice++; if (twice <= 3) print "second change of " i ": " $0 }
		}
		END {
			for (i in c) k++
			if (k != n) print k + 0 " of " n " instances changed state"
		}' | paste -sd ';' -)
	[[ -z $why ]] || fail "$host after line $since: want each of the $N instances $from -> $to exactly once: $why"
}

start_vipd a "$LAB_DIR/a.toml"
wait_until 30 "a (150) master of all $N instances with the $((4 * N)) VIPs" eval '(($(vip_count a "$RE") == 4 * N && $(in_state a master) == N))'
start_vipd b "$LAB_DIR/b.toml"
wait_until 30 "b (100) backup of all $N, a master of all with every VIP" holds_all a b
ca=$(state_changes a) cb=$(state_changes b)
always_for 2 "no state change on a or b before the cut (a: $ca lines, b: $cb)" counts_are "$ca" "$cb"
each_once b 0 init backup
ok "a master of all $N with the $((4 * N)) VIPs; b backup of all, only its start-up changes, quiet for 2 s"

nft_drop_vrrp a out 100
wait_until 30 "b master of all $N with all $((4 * N)) VIPs after a's adverts were dropped" \
	eval '(($(vip_count b "$RE") == 4 * N && $(in_state b master) == N))'
wait_until 10 "b's log to hold its $N takeovers" eval '(($(state_changes b) >= cb + N))'
always_for 2 "no further state change on a or b after b's takeover" counts_are "$ca" $((cb + N))
each_once b "$cb" backup master
(($(in_state a master) == N)) || fail "a left master while it heard only b's lower priority: $(in_state a master) of $N master"
ok "a's adverts dropped: b master of all $N with all $((4 * N)) VIPs, each instance backup -> master once; a (hearing a lower priority) stayed master"

cb=$((cb + N))
nft_flush a
wait_until 30 "b to give all $N back (backup of all, no VIP) and a master of all with every VIP" holds_all a b
wait_until 10 "b's log to hold its $N releases" eval '(($(state_changes b) >= cb + N))'
always_for 2 "no further state change on a or b after the heal" counts_are "$ca" $((cb + N))
each_once b "$cb" master backup
ok "healed: a alone holds the $((4 * N)) VIPs, b backup of all with none, each instance master -> backup once; a never changed state"
pass
