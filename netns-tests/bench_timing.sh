#!/usr/bin/env bash
# Benchmark (not a test: run.sh does not pick it up). Takeover precision and cost, vipd next
# to keepalived in the same lab and run, VRRPv3:
# 1. takeover overhead: a (150) master, b (100) backup; a's adverts are dropped on output
#    (nft), and a capture on the bridge gives the time from a's last advert to b's first;
#    minus the exact Master_Down_Interval of b (3 intervals + (256 - 100) / 256 interval).
#    At 10 and 100 ms adverts, ROUNDS rounds each: min / median / max of the overhead.
# 2. the three-backup race at 10 ms: a (150), b (120), c (100); a's adverts dropped;
#    b's and c's master-down intervals are 0.78 ms apart. ROUNDS rounds: how often c (the
#    lowest) also sent adverts as master.
# 3. 200 instances at 10 ms adverts (a master of all, b backup of all): CPU of both agents
#    over SECONDS, as a share of one core, and their resident memory.
#   sudo netns-tests/bench_timing.sh [ROUNDS] [SECONDS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-7}
SECONDS_CPU=${2:-10}
lab_init bt

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.3/24

# mdi_ms PRIO INTERVAL_MS: the exact Master_Down_Interval in ms.
mdi_ms() { awk -v p="$1" -v i="$2" 'BEGIN {printf "%.4f", 3 * i + (256 - p) * i / 256}'; }

# conf AGENT HOST PRIO INTERVAL_MS [COUNT]: COUNT instances (VRIDs 1..COUNT) for HOST.
conf() {
	local agent=$1 host=$2 prio=$3 int=$4 n=${5:-1} v
	if [[ $agent == vipd ]]; then
		for v in $(seq "$n"); do
			printf '[[instance]]\nname = "v%d"\ninterface = "eth0"\nvrid = %d\npriority = %d\n' "$v" "$v" "$prio"
			printf 'advert_interval = "%dms"\nvirtual_addresses = ["10.99.%d.%d/32"]\n\n' "$int" $((1 + v / 250)) $((v % 250 + 1))
		done | vipd_conf "$host"
	else
		{
			printf 'global_defs {\n  router_id %s\n}\n' "$host"
			for v in $(seq "$n"); do
				printf 'vrrp_instance v%d {\n  state BACKUP\n  interface eth0\n  virtual_router_id %d\n' "$v" "$v"
				printf '  version 3\n  priority %d\n  advert_int %s\n' "$prio" "$(awk -v i="$int" 'BEGIN {printf "%g", i / 1000}')"
				printf '  virtual_ipaddress {\n    10.99.%d.%d/32\n  }\n}\n' $((1 + v / 250)) $((v % 250 + 1))
			done
		} >"$LAB_DIR/$host.keepalived.conf"
	fi
}
start_agent() { # start_agent AGENT HOST
	if [[ $1 == vipd ]]; then start_vipd "$2" "$LAB_DIR/$2.toml"; else start_keepalived "$2" "$LAB_DIR/$2.keepalived.conf"; fi
}
stop_all() {
	local h
	for h in "$@"; do
		if [[ -n ${LAB_PID_OF[$h]:-} ]] && alive "${LAB_PID_OF[$h]}"; then stop_agent "$h"; fi
		nft_flush "$h"
	done
}
holds() { has_addr "$1" 10.99.1.2; } # VRID 1's address

# overhead AGENT INTERVAL_MS: one line of stats.
overhead() {
	local agent=$1 int=$2 r last first
	conf "$agent" a 150 "$int"
	conf "$agent" b 100 "$int"
	start_agent "$agent" a
	wait_until 10 "$agent a to hold VRID 1" holds a
	start_agent "$agent" b
	sleep 2
	: >"$LAB_DIR/overhead"
	for r in $(seq "$ROUNDS"); do
		wait_until 10 "$agent a to hold VRID 1 alone" eval 'holds a && ! holds b'
		sleep 0.5
		capture_start "ov$agent$int$r"
		wait_until 3 "an advert of a's in the capture" cap_at_least 1 "vrrp && ip.src == 10.99.0.1"
		nft_drop_vrrp a out 100
		wait_until 10 "$agent b to take over" holds b
		sleep 0.2
		capture_stop
		last=$(cap_fields "vrrp && ip.src == 10.99.0.1 && vrrp.prio > 0" frame.time_epoch | tail -n 1)
		first=$(cap_fields "vrrp && ip.src == 10.99.0.2" frame.time_epoch | head -n 1)
		if [[ -z $last || -z $first ]]; then
			echo "round $r: no advert captured (a's last: '$last', b's first: '$first')" >&2
			cp "$CAP_FILE" "$LAB_DIR/missed-$agent-$int-$r.pcap"
		else
			awk -v l="$last" -v f="$first" -v m="$(mdi_ms 100 "$int")" 'BEGIN {printf "%.3f\n", (f - l) * 1000 - m}' >>"$LAB_DIR/overhead"
		fi
		nft_flush a
	done
	# Not a pipeline: capture_stop may signal only children of this shell.
	stats_ms 2 <"$LAB_DIR/overhead"
	stop_all a b
}

# race AGENT: in how many of ROUNDS takeovers c (100) also advertised as master.
race() {
	local agent=$1 r lost=0
	conf "$agent" a 150 10
	conf "$agent" b 120 10
	conf "$agent" c 100 10
	start_agent "$agent" a
	wait_until 10 "$agent a to hold VRID 1" holds a
	start_agent "$agent" b
	start_agent "$agent" c
	sleep 2
	for r in $(seq "$ROUNDS"); do
		wait_until 10 "$agent a to hold VRID 1 alone" eval 'holds a && ! holds b && ! holds c'
		sleep 0.5
		capture_start "race$agent$r"
		nft_drop_vrrp a out 100
		wait_until 10 "$agent b to take over" holds b
		sleep 0.3
		capture_stop
		(($(cap_count "vrrp && ip.src == 10.99.0.3") == 0)) || lost=$((lost + 1))
		nft_flush a
	done
	echo "c (100) advertised as master in $lost of $ROUNDS takeovers"
	stop_all a b c
}

# load AGENT: CPU share of a and b, and their RSS, with 200 instances at 10 ms.
load() {
	local agent=$1 h t0 t1 pids=() cpu rss
	conf "$agent" a 150 10 200
	conf "$agent" b 100 10 200
	start_agent "$agent" a
	start_agent "$agent" b
	sleep 5
	for h in a b; do
		if [[ $agent == vipd ]]; then
			pids+=("${LAB_PID_OF[$h]}")
		else
			# keepalived's VRRP child does the work; count the parent too.
			pids+=("${LAB_PID_OF[$h]}" "$(cat "$LAB_DIR/$h.vrrp.pid")")
		fi
	done
	t0=0
	for p in "${pids[@]}"; do t0=$((t0 + $(cpu_ticks "$p"))); done
	sleep "$SECONDS_CPU"
	t1=0
	for p in "${pids[@]}"; do t1=$((t1 + $(cpu_ticks "$p"))); done
	rss=0
	for p in "${pids[@]}"; do rss=$((rss + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done
	cpu=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_CPU" 'BEGIN {printf "%.1f", 100 * d / hz / s}')
	echo "cpu ${cpu}% of a core (master + backup), rss $((rss / 1024)) MiB"
	stop_all a b
}

RESULTS="$LAB_DIR/results"
# result LABEL TEXT...: one line of the table (agents run in this shell, not in a subshell, so
# that the lab's cleanup knows them).
result() { printf '%-58s %s\n' "$1" "${*:2}" >>"$RESULTS"; }
for int in ${BENCH_INTERVALS:-10 100}; do
	for agent in vipd keepalived; do
		overhead "$agent" "$int" >"$LAB_DIR/line"
		result "takeover overhead above the RFC floor, $int ms, $agent" "$(cat "$LAB_DIR/line")"
	done
done
[[ -n ${BENCH_ONLY_OVERHEAD:-} ]] && { cat "$RESULTS"; pass; }
for agent in vipd keepalived; do
	race "$agent" >"$LAB_DIR/line"
	result "three-backup race at 10 ms, $agent" "$(cat "$LAB_DIR/line")"
done
for agent in vipd keepalived; do
	load "$agent" >"$LAB_DIR/line"
	result "200 instances at 10 ms, $agent" "$(cat "$LAB_DIR/line")"
done
echo "timing benchmark, $ROUNDS rounds ($(date -u +%F), $(nproc) cores, $(uname -r))"
cat "$RESULTS"
pass
