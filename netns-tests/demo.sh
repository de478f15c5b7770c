#!/usr/bin/env bash
# A short tour of vipd for newcomers: two routers share the virtual address 10.99.0.50, a client
# pings it, we pull the master's cable, watch the backup take over, and plug it back in.
# Everything runs in throw-away network namespaces and is removed at the end.
#   sudo netns-tests/demo.sh          (builds target/release/vipd first if it is missing)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
export VIPD=${VIPD:-$repo/target/release/vipd}
if [[ $(id -u) != 0 ]]; then
	echo "The demo creates network namespaces, so it needs root: sudo $0" >&2
	exit 1
fi
if [[ ! -x $VIPD ]]; then
	echo "==> No vipd binary at $VIPD yet: building it (cargo build --release)"
	(cd "$repo" && cargo build --release)
fi
# shellcheck source=lib.sh
source "$here/lib.sh"

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
info() { printf '    %s\n' "$*"; }
master_of() { # prints a or b, whichever vipd reports as master
	local h
	for h in a b; do is_state "$h" web master && { echo "$h"; return; }; done
	echo "nobody"
}
replies() { grep -c 'bytes from' "$LAB_DIR/ping.txt" || true; }
client_mac_for_vip() { ip -n "$(ns cli)" neigh show "$VIP4" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
client_uses() { [[ $(client_mac_for_vip) == "${LAB_MAC[$1]}" ]]; }
at_least_replies() { (($(replies) >= $1)); }

lab_init dm
say "Building a small LAN in network namespaces"
lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host cli 10.99.0.100/24
info "router a  10.99.0.1    MAC ${LAB_MAC[a]}"
info "router b  10.99.0.2    MAC ${LAB_MAC[b]}"
info "client    10.99.0.100"

say "Starting vipd on both routers"
vip_instance 150 100ms | vipd_conf a
vip_instance 100 100ms | vipd_conf b
info "Router a's configuration (b's is the same with priority = 100):"
sed 's/^/      | /' "$LAB_DIR/a.toml"
start_vipd a "$LAB_DIR/a.toml"
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "one router to become master" roles web "$VIP4" a b
info "Master: router $(master_of), it holds $VIP4. What 'vipd status' says on each router:"
for h in a b; do info "  $h: $("$VIPD" status --socket "$LAB_DIR/$h.sock" | tr -s ' ')"; done

say "The client pings $VIP4 every 20 ms"
ip netns exec "$(ns cli)" ping -n -D -i 0.02 -W 1 "$VIP4" >"$LAB_DIR/ping.txt" 2>&1 &
ping_pid=$!
LAB_PIDS+=("$ping_pid")
wait_until 5 "the client to get 25 replies" at_least_replies 25
info "$(replies) replies so far, from MAC $(client_mac_for_vip) (router a)"

say "Pulling router a's cable"
monitor_start b
t_cut=$(now_ms)
cut_link a
wait_until 5 "router b to take $VIP4 over" has_addr_event b "$VIP4" add "$t_cut"
failover=$(($(addr_event_ms b "$VIP4" add "$t_cut") - t_cut))
wait_until 3 "router a to notice it lost its link" is_state a web fault
info "router b added $VIP4 ${failover} ms after the cable was pulled (the protocol allows 3 missed adverts + skew = 360 ms)"
info "router a is in state '$(vipd_state a web)' and dropped the address; b logged:"
grep -h 'to=master' "$LAB_DIR/b.vipd.log" | tail -n 1 | sed 's/^/      | /'
wait_until 5 "the client to follow b's gratuitous ARP" client_uses b
n=$(replies)
# Linux ignores an ARP update for an entry changed less than a second ago (neighbour locktime),
# so keep pinging b for over a second before failing back.
wait_until 5 "the client to get 60 replies from b" at_least_replies $((n + 60))
info "The client now reaches $VIP4 at MAC $(client_mac_for_vip) (router b) and keeps getting replies"

say "Plugging router a's cable back in"
monitor_start a
t_back=$(now_ms)
restore_link a
wait_until 5 "router a (priority 150) to take $VIP4 back" roles web "$VIP4" a b
failback=$(($(addr_event_ms a "$VIP4" add "$t_back") - t_back))
info "router a is back: it has the higher priority and preempts, $VIP4 is on a again after ${failback} ms"
wait_until 5 "the client to follow a's gratuitous ARP" client_uses a
n=$(replies)
wait_until 5 "25 more replies from a" at_least_replies $((n + 25))
lab_kill INT "$ping_pid"
wait_until 3 "ping to stop" not alive "$ping_pid"

say "What the client saw"
sent=$(awk '/packets transmitted/ {print $1}' "$LAB_DIR/ping.txt")
got=$(awk '/packets transmitted/ {print $4}' "$LAB_DIR/ping.txt")
info "$sent pings sent, $got answered, $((sent - got)) lost."
# Gaps in the answered sequence numbers, each with the time it began (relative to the cut).
grep -o '^\[[0-9.]*\].*icmp_seq=[0-9]*' "$LAB_DIR/ping.txt" |
	sed -E 's/^\[([0-9.]+)\].*icmp_seq=([0-9]+)/\1 \2/' |
	awk -v cut="$t_cut" -v back="$t_back" '
		NR > 1 && $2 > prev + 1 {
			t = int(ptime * 1000)
			when = (t >= back) ? "failback" : (t >= cut - 100) ? "failover" : "before the cut"
			printf "    %d pings in a row (about %d ms) went unanswered during the %s\n", $2 - prev - 1, ($2 - prev - 1) * 20, when
			gaps++
		}
		{ prev = $2; ptime = $1 }
		END { if (!gaps) print "    no gap at all" }'
say "Done: the namespaces and processes are removed. Run netns-tests/run.sh for the full test suite."
