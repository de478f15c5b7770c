#!/usr/bin/env bash
# Benchmark (not a test: run.sh does not pick it up). Takeover precision and cost, vipd next
# to keepalived in the same lab and run, VRRPv3. Sections (BENCH_SECTIONS picks them):
# overhead  takeover overhead: a (150) master, b (100) backup; a's adverts are dropped on output
#    (nft), and a capture on the bridge gives the time from a's last advert to b's first;
#    minus the exact Master_Down_Interval of b (3 intervals + (256 - 100) / 256 interval).
#    At 10 and 100 ms adverts (BENCH_INTERVALS), ROUNDS rounds each.
# race  the three-backup race at 10 ms: a (150), b (120), c (100); a's adverts dropped;
#    b's and c's master-down intervals are 0.78 ms apart. ROUNDS rounds: how often c (the
#    lowest) also sent adverts as master.
# load  200 instances at 10 ms adverts (a master of all, b backup of all): CPU of both agents
#    over SECONDS, as a share of one core, and their resident memory.
# scale  1,000 instances per host at 100 ms adverts: 4 interfaces (eth0, e1, e2, e3, each on its
#    own bridge and subnet) x VRIDs 1..250, one /32 VIP each (10.99.30-33.VRID); a 150 for all,
#    b 100. Both agents start at one instant. Settle time: from the start until every instance
#    has its final role by the agent's own log (a master of all 1,000, b backup of all; vipd:
#    "state change instance=" lines, keepalived: "Entering MASTER/BACKUP STATE" lines), a holds
#    the 1,000 VIPs and b none, and no state change for SCALE_QUIET seconds (polled every
#    100 ms, so +-100 ms). An agent that has not settled SCALE_BOUND s after the start is
#    reported as "did not settle" (not a failure) and measured all the same. Then over
#    SETTLE_SECONDS: state changes (both hosts; 0 expected), CPU of both agents (keepalived: the
#    parent and its VRRP child) as a share of one core in slices of up to 10 s, and RSS at
#    the end. SCALE_ROUNDS rounds (fresh starts).
# mass  mass takeover: 250 instances x 4 /32 VIPs (10.99.11-14.VRID, 1,000 VIPs) on eth0, 100 ms
#    adverts, a 150 master, b 100 backup. a's adverts are dropped on output (nft) while tcpdump
#    captures VRRP on the bridge (kernel stamps; VRRP only, with a 32 MiB buffer: the cut master
#    answers b's lower-priority adverts with a flood of gratuitous ARPs, vipd and keepalived
#    alike, that made tcpdump drop packets) and `ip -ts monitor address` runs in b's namespace.
#    "VIP added" is the ADDRESS MONITOR's line (its wall clock when it read the kernel's
#    message), not b's gratuitous ARP: the add is what is measured, and the monitor saw all
#    1,000 adds in every trial. Reported, each also minus the exact Master_Down_Interval
#    (MDI = 3 * 100 + (256 - 100) * 100 / 256 = 360.94 ms):
#    - from a's last advert (any VRID) to b's first and to b's last VIP added. a's instances do
#      not all advertise at the same instant, so the first can come before MDI;
#    - per instance (VRID), from a's last advert of that VRID to b's first / last VIP of that
#      VRID: the earliest and the latest over the 250 (the issue's target: latest <= MDI + 20);
#    - the largest advert gap: per VRID, the gaps between b's consecutive adverts over the first
#      second after b's first advert as master (and from the last one to the end of that
#      second), the largest over all VRIDs, in advert intervals (target <= 1.1);
#    - b's state changes per takeover (250 expected) and the adds the monitor saw (1,000).
#    ROUNDS rounds; between rounds the nft table is removed and a holds all again (b backup of
#    all, no VIP). A round whose capture lost packets gets a note under the table.
# All sections run vipd and then keepalived, and the run ends with one table: median [min..max]
# over rounds (or slices) for each agent and the ratio of the medians, vipd / keepalived.
#   sudo netns-tests/bench_timing.sh [ROUNDS] [SECONDS]
# Environment (defaults): VIPD (target/release/vipd), BENCH_SECTIONS ("overhead race load scale
# mass"), BENCH_INTERVALS ("10 100", overhead), ROUNDS (7; the first argument wins), SETTLE_SECONDS
# (60), SCALE_ROUNDS (2), SCALE_BOUND (30), SCALE_QUIET (1), MASS_ROUNDS (ROUNDS); the load
# window is the second argument only (10 s). BENCH_ONLY_OVERHEAD=1 is BENCH_SECTIONS=overhead.
# At the defaults the run takes about 7 minutes on 2 cores; a trial run:
#   sudo BENCH_SECTIONS="scale mass" SETTLE_SECONDS=10 SCALE_ROUNDS=1 ROUNDS=3 netns-tests/bench_timing.sh
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-${ROUNDS:-7}}
SECONDS_CPU=${2:-10}
SETTLE_SECONDS=${SETTLE_SECONDS:-60}
SCALE_ROUNDS=${SCALE_ROUNDS:-2}
SCALE_BOUND=${SCALE_BOUND:-30}
SCALE_QUIET=${SCALE_QUIET:-1}
MASS_ROUNDS=${MASS_ROUNDS:-$ROUNDS}
SECTIONS=${BENCH_SECTIONS:-overhead race load scale mass}
[[ -n ${BENCH_ONLY_OVERHEAD:-} ]] && SECTIONS=overhead
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
		if [[ -n ${LAB_PID_OF[$h]:-} ]] && alive "${LAB_PID_OF[$h]}"; then stop_agent "$h" TERM 30; fi
		nft_flush "$h"
		# an agent that left VIPs behind must not make the next one look settled
		ip -n "$(ns "$h")" -4 -o addr show | awk '$4 ~ /^10\.99\..*\/32$/ { print $2, $4 }' |
			while read -r dev addr; do ip -n "$(ns "$h")" addr del "$addr" dev "$dev"; done
	done
}
holds() { has_addr "$1" 10.99.1.2; } # VRID 1's address

# overhead AGENT INTERVAL_MS: each round's overhead (ms) into $RES/ovINTERVAL.AGENT.
overhead() {
	local agent=$1 int=$2 r last first
	conf "$agent" a 150 "$int"
	conf "$agent" b 100 "$int"
	start_agent "$agent" a
	wait_until 10 "$agent a to hold VRID 1" holds a
	start_agent "$agent" b
	sleep 2
	: >"$RES/ov$int.$agent"
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
			awk -v l="$last" -v f="$first" -v m="$(mdi_ms 100 "$int")" 'BEGIN {printf "%.3f\n", (f - l) * 1000 - m}' >>"$RES/ov$int.$agent"
		fi
		nft_flush a
	done
	stop_all a b
}

# race AGENT: in how many of ROUNDS takeovers c (100) also advertised as master.
# Into $RES/race.AGENT.txt.
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
	echo "c master in $lost of $ROUNDS" >"$RES/race.$agent.txt"
	stop_all a b c
}

# load AGENT: CPU share of a and b, and their RSS, with 200 instances at 10 ms, into
# $RES/load_cpu.AGENT (% of a core) and $RES/load_rss.AGENT (MiB).
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
	echo "$cpu" >"$RES/load_cpu.$agent"
	echo $((rss / 1024)) >"$RES/load_rss.$agent"
	stop_all a b
}


# ---- shared by scale and mass ---------------------------------------------------------------
# agent_pids HOST AGENT: the processes doing the agent's work (keepalived: parent and VRRP child).
agent_pids() {
	if [[ $2 == vipd ]]; then echo "${LAB_PID_OF[$1]}"; else echo "${LAB_PID_OF[$1]} $(cat "$LAB_DIR/$1.vrrp.pid")"; fi
}
# ticks_of PID...: their CPU ticks together; fails with a message if one has exited.
ticks_of() {
	local t=0 p
	for p in "$@"; do
		running "$p" || fail "agent process $p ($(cat "/proc/$p/comm" 2>/dev/null)) exited during the measurement"
		t=$((t + $(cpu_ticks "$p")))
	done
	echo "$t"
}
rss_mib() { local k=0 p; for p in "$@"; do k=$((k + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $((k / 1024)); }
# start_at_once AGENT HOST...: check the configs, then start the HOSTs' agents back to back
# (START_MS: just before the first), and wait until each is up.
start_at_once() {
	local agent=$1 h
	shift
	if [[ $agent == keepalived ]]; then
		for h in "$@"; do
			nsx "$h" keepalived -t -f "$LAB_DIR/$h.keepalived.conf" >>"$LAB_DIR/$h.keepalived.log" 2>&1 ||
				fail "keepalived rejects $LAB_DIR/$h.keepalived.conf (see $LAB_DIR/$h.keepalived.log)"
			rm -f "$LAB_DIR/$h.vrrp.pid" "$LAB_DIR/$h.keepalived.pid"
		done
	fi
	START_MS=$(now_ms)
	for h in "$@"; do
		if [[ $agent == vipd ]]; then spawn_vipd "$h" "$LAB_DIR/$h.toml"; else spawn_keepalived "$h" "$LAB_DIR/$h.keepalived.conf"; fi
	done
	for h in "$@"; do
		if [[ $agent == vipd ]]; then
			wait_until 10 "vipd on $h to answer on its control socket" vipd_status "$h" >/dev/null
		else
			wait_until 10 "keepalived on $h to write its VRRP child's pid file" test -s "$LAB_DIR/$h.vrrp.pid"
		fi
	done
}
# note KEY TEXT: a footnote for the table.
note() { echo "$2" >>"$RES/$1.notes"; }
changes_of() { local r; r=$(agent_roles "$1" "$2"); echo "${r%% *}"; }

# ---- scale: 1,000 instances on 4 interfaces ---------------------------------------------------
SCALE_IFS=(eth0 e1 e2 e3)
SCALE_RE='^10\.99\.3[0-3]\.'
scale_topology() {
	local i h n
	[[ -n ${SCALE_LINKS:-} ]] && return 0
	for i in 1 2 3; do
		for h in a b; do
			[[ $h == a ]] && n=1 || n=2
			lab_link "$h" "e$i" "br$i" "10.99.10$i.$n/24"
		done
	done
	SCALE_LINKS=1
}
# conf_scale AGENT HOST PRIO: VRIDs 1..250 on each of the 4 interfaces, 100 ms, VIP 10.99.3I.VRID/32.
conf_scale() {
	local agent=$1 host=$2 prio=$3 i v
	if [[ $agent == vipd ]]; then
		for i in 0 1 2 3; do
			for v in $(seq 250); do
				printf '[[instance]]\nname = "i%dv%d"\ninterface = "%s"\nvrid = %d\npriority = %d\n' "$i" "$v" "${SCALE_IFS[i]}" "$v" "$prio"
				printf 'advert_interval = "100ms"\nvirtual_addresses = ["10.99.%d.%d/32"]\n\n' $((30 + i)) "$v"
			done
		done | vipd_conf "$host"
	else
		{
			printf 'global_defs {\n  router_id %s\n}\n' "$host"
			for i in 0 1 2 3; do
				for v in $(seq 250); do
					printf 'vrrp_instance i%dv%d {\n  state BACKUP\n  interface %s\n  virtual_router_id %d\n' "$i" "$v" "${SCALE_IFS[i]}" "$v"
					printf '  version 3\n  priority %d\n  advert_int 0.1\n' "$prio"
					printf '  virtual_ipaddress {\n    10.99.%d.%d/32\n  }\n}\n' $((30 + i)) "$v"
				done
			done
		} >"$LAB_DIR/$host.keepalived.conf"
	fi
}
# scale_view AGENT: "CHANGES A_MASTERS B_BACKUPS A_VIPS B_VIPS" (changes of both hosts).
scale_view() {
	local ra rb
	read -ra ra <<<"$(agent_roles a "$1")"
	read -ra rb <<<"$(agent_roles b "$1")"
	echo "$((ra[0] + rb[0])) ${ra[1]} ${rb[2]} $(vip_count a "$SCALE_RE") $(vip_count b "$SCALE_RE")"
}
scale_final() { [[ $1 == *" 1000 1000 1000 0" ]]; }

# scale AGENT: SCALE_ROUNDS fresh starts of both hosts at once.
scale() {
	local agent=$1 r view prev since deadline settled pa pb t0a t0b t1a t1b w0 w left sl c0 v
	scale_topology
	conf_scale "$agent" a 150
	conf_scale "$agent" b 100
	for r in $(seq "$SCALE_ROUNDS"); do
		echo "scale $agent round $r: starting a and b at once"
		start_at_once "$agent" a b
		deadline=$((START_MS + SCALE_BOUND * 1000)) prev="" since=0 settled=""
		while (($(now_ms) < deadline)); do
			view=$(scale_view "$agent")
			[[ $view == "$prev" ]] || { prev=$view; since=$(now_ms); }
			if scale_final "$view" && (($(now_ms) - since >= $(ms_of "$SCALE_QUIET"))); then
				settled=1
				break
			fi
			sleep 0.1
		done
		read -ra v <<<"$view"
		if [[ -n $settled ]]; then
			echo $((since - START_MS)) >>"$RES/scale_settle.$agent"
			echo "${v[0]}" >>"$RES/scale_startup.$agent"
			echo "  settled after $((since - START_MS)) ms ($view)"
		else
			note scale_settle "$agent round $r: did not settle in $SCALE_BOUND s (${v[0]} state changes so far; a master of ${v[1]}, b backup of ${v[2]}, VIPs on a ${v[3]}, on b ${v[4]}); measured all the same"
			echo "  did not settle in $SCALE_BOUND s: $view"
		fi
		read -ra pa <<<"$(agent_pids a "$agent")"
		read -ra pb <<<"$(agent_pids b "$agent")"
		c0=${v[0]}
		left=$SETTLE_SECONDS
		while ((left > 0)); do
			sl=$((left < 10 ? left : 10))
			t0a=$(ticks_of "${pa[@]}") t0b=$(ticks_of "${pb[@]}") w0=$(now_ms)
			sleep "$sl"
			t1a=$(ticks_of "${pa[@]}") t1b=$(ticks_of "${pb[@]}") w=$(($(now_ms) - w0))
			awk -v a=$((t1a - t0a)) -v b=$((t1b - t0b)) -v hz="$(getconf CLK_TCK)" -v w="$w" -v f="$RES/scale_cpu" -v g="$agent" 'BEGIN {
				s = hz * w / 1000 / 100
				printf "%.2f\n", a / s >>(f "_a." g); printf "%.2f\n", b / s >>(f "_b." g); printf "%.2f\n", (a + b) / s >>(f "." g) }'
			left=$((left - sl))
		done
		view=$(scale_view "$agent")
		read -ra v <<<"$view"
		echo $((v[0] - c0)) >>"$RES/scale_changes.$agent"
		echo "$(($(rss_mib "${pa[@]}") + $(rss_mib "${pb[@]}")))" >>"$RES/scale_rss.$agent"
		echo "  $((v[0] - c0)) state changes in ${SETTLE_SECONDS} s; now: $view"
		scale_final "$view" || note scale_changes "$agent round $r: not in the final roles at the end of the window ($view: changes, a masters, b backups, VIPs on a, on b)"
		stop_all a b
	done
}

# ---- mass: 250 instances x 4 VIPs, one takeover ----------------------------------------------
MASS_RE='^10\.99\.1[1-4]\.'
# conf_mass AGENT HOST PRIO: VRIDs 1..250 on eth0, 100 ms, VIPs 10.99.11-14.VRID/32.
conf_mass() {
	local agent=$1 host=$2 prio=$3 v
	if [[ $agent == vipd ]]; then
		for v in $(seq 250); do
			printf '[[instance]]\nname = "m%d"\ninterface = "eth0"\nvrid = %d\npriority = %d\n' "$v" "$v" "$prio"
			printf 'advert_interval = "100ms"\nvirtual_addresses = ["10.99.11.%d/32", "10.99.12.%d/32", "10.99.13.%d/32", "10.99.14.%d/32"]\n\n' "$v" "$v" "$v" "$v"
		done | vipd_conf "$host"
	else
		{
			printf 'global_defs {\n  router_id %s\n}\n' "$host"
			for v in $(seq 250); do
				printf 'vrrp_instance m%d {\n  state BACKUP\n  interface eth0\n  virtual_router_id %d\n' "$v" "$v"
				printf '  version 3\n  priority %d\n  advert_int 0.1\n' "$prio"
				printf '  virtual_ipaddress {\n    10.99.11.%d/32\n    10.99.12.%d/32\n    10.99.13.%d/32\n    10.99.14.%d/32\n  }\n}\n' "$v" "$v" "$v" "$v"
			done
		} >"$LAB_DIR/$host.keepalived.conf"
	fi
}
mass_vips() { (($(vip_count "$1" "$MASS_RE") == $2)); } # mass_vips HOST N
# mass_ready AGENT: a master of all 250 with the 1,000 VIPs, b backup of all 250 with none.
mass_ready() {
	local ra rb
	read -ra ra <<<"$(agent_roles a "$1")"
	read -ra rb <<<"$(agent_roles b "$1")"
	((ra[1] == 250 && rb[2] == 250)) && mass_vips a 1000 && mass_vips b 0
}

# mass AGENT: MASS_ROUNDS takeovers of the 250 instances by b.
mass() {
	local agent=$1 r mon mark c0 c1 out drops v
	local mdi
	mdi=$(mdi_ms 100 100)
	conf_mass "$agent" a 150
	conf_mass "$agent" b 100
	start_agent "$agent" a
	wait_until 30 "$agent on a to hold all 1,000 VIPs" mass_vips a 1000
	start_agent "$agent" b
	monitor_start b
	mon=${LAB_PIDS[-1]}
	for r in $(seq "$MASS_ROUNDS"); do
		wait_until 30 "$agent: a master of all 250 with the 1,000 VIPs, b backup of all and none (round $r)" mass_ready "$agent"
		sleep 1
		# VRRP only: the cut master answers b's lower-priority adverts with gratuitous ARPs, tens
		# of thousands a second from either agent, which would overflow tcpdump's buffer
		capture_start "mass$agent$r" -B 32768 ip proto 112
		wait_until 3 "an advert of a's in the capture" cap_at_least 1 "vrrp && ip.src == 10.99.0.1"
		mark=$(wc -l <"$LAB_DIR/b.mon")
		c0=$(changes_of b "$agent")
		nft_drop_vrrp a out 100
		wait_until 20 "$agent on b to hold all 1,000 VIPs after a's adverts were cut (round $r)" mass_vips b 1000
		sleep 1.2
		capture_stop
		c1=$(changes_of b "$agent")
		cap_fields "$ADV" frame.time_epoch ip.src vrrp.virt_rtr_id vrrp.prio >"$LAB_DIR/mass.adv"
		mon_adds b "$mark" "$MASS_RE" >"$LAB_DIR/mass.adds"
		drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$LAB_DIR/mass$agent$r.tcpdump.log")
		((${drops:-0} == 0)) || note mass_gap "$agent round $r: tcpdump lost $drops packets (gaps may look larger)"
		out=$(awk -v iv=0.1 '
			FNR == NR {
				t = $1; if (t > cend) cend = t
				if ($2 == "10.99.0.1" && $4 > 0) { al[$3] = t; if (t > alast) alast = t }
				else if ($2 == "10.99.0.2") {
					if (!($3 in bf)) { bf[$3] = t; bl[$3] = t; mg[$3] = 0 }
					else if (t <= bf[$3] + 1.0) { g = t - bl[$3]; if (g > mg[$3]) mg[$3] = g; bl[$3] = t }
				}
				next
			}
			{
				t = $1; n++; if (first == "" || t < first) first = t; if (t > last) last = t
				split($2, o, "."); v = o[4] + 0; if (t > la[v]) la[v] = t; if (!(v in fa) || t < fa[v]) fa[v] = t
			}
			END {
				if (alast == "" || n == 0) { print "none"; exit }
				for (v in bf) { e = bf[v] + 1.0; if (e > cend) e = cend; if (e - bl[v] > mg[v]) mg[v] = e - bl[v]; if (mg[v] > gap) gap = mg[v]; nb++ }
				best = -1
				for (v in la) if (v in al) {
					d = (la[v] - al[v]) * 1000; if (d > worst) worst = d
					d = (fa[v] - al[v]) * 1000; if (best < 0 || d < best) best = d
				}
				printf "%.3f %.3f %.3f %.3f %d %d %.3f\n", (first - alast) * 1000, (last - alast) * 1000, worst, gap / iv, n, nb, best
			}' "$LAB_DIR/mass.adv" "$LAB_DIR/mass.adds")
		if [[ $out == none ]]; then
			note mass_first "$agent round $r: no advert of a's or no VIP added in the capture/monitor (kept as missed-mass-$agent-$r.pcap)"
			cp "$CAP_FILE" "$LAB_DIR/missed-mass-$agent-$r.pcap"
		else
			read -ra v <<<"$out"
			echo "${v[0]}" >>"$RES/mass_first.$agent"
			echo "${v[1]}" >>"$RES/mass_last.$agent"
			awk -v f="${v[0]}" -v l="${v[1]}" -v w="${v[2]}" -v e="${v[6]}" -v m="$mdi" -v d="$RES" -v g="$agent" 'BEGIN {
				printf "%.3f\n", f - m >>(d "/mass_first_mdi." g); printf "%.3f\n", l - m >>(d "/mass_last_mdi." g)
				printf "%.3f\n", e - m >>(d "/mass_inst_first_mdi." g); printf "%.3f\n", w - m >>(d "/mass_inst_last_mdi." g) }'
			echo "${v[3]}" >>"$RES/mass_gap.$agent"
			echo "${v[4]}" >>"$RES/mass_adds.$agent"
			((v[5] == 250)) || note mass_gap "$agent round $r: adverts from b for only ${v[5]} of 250 VRIDs in the capture"
			echo "  round $r: first VIP ${v[0]} ms, last ${v[1]} ms after a's last advert; per instance after its own last advert: earliest ${v[6]} ms, latest ${v[2]} ms; largest gap ${v[3]} intervals, ${v[4]} VIP adds seen, b's state changes $((c1 - c0))"
		fi
		echo $((c1 - c0)) >>"$RES/mass_changes.$agent"
		nft_flush a
	done
	lab_kill TERM "$mon"
	stop_all a b
}

# ---- the run ----------------------------------------------------------------------------------
RES="$LAB_DIR/res"
mkdir -p "$RES"
for s in $SECTIONS; do
	[[ " overhead race load scale mass " == *" $s "* ]] || fail "BENCH_SECTIONS: unknown section '$s' (overhead race load scale mass)"
done
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
if want overhead; then
	for int in ${BENCH_INTERVALS:-10 100}; do
		for agent in vipd keepalived; do echo "== overhead $int ms, $agent"; overhead "$agent" "$int"; done
	done
fi
if want race; then for agent in vipd keepalived; do echo "== race, $agent"; race "$agent"; done; fi
if want load; then for agent in vipd keepalived; do echo "== load, $agent"; load "$agent"; done; fi
if want scale; then for agent in vipd keepalived; do echo "== scale, $agent"; scale "$agent"; done; fi
if want mass; then for agent in vipd keepalived; do echo "== mass, $agent"; mass "$agent"; done; fi

# cell FILE DECIMALS: "median [min..max]" of the numbers in FILE, its text in FILE.txt, or "-".
cell() {
	if [[ -s $RES/$1.txt ]]; then
		cat "$RES/$1.txt"
	elif [[ -s $RES/$1 ]]; then
		sort -g "$RES/$1" | awk -v d="$2" '{v[NR] = $1} END {
			f = "%." d "f"; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf f " [" f ".." f "]", m, v[1], v[NR] }'
	else
		echo -
	fi
}
median_of() { sort -g "$RES/$1" | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# row KEY LABEL DECIMALS [noratio]: one line of the table, if either agent has a result.
row() {
	local key=$1 label=$2 dec=$3 r=-
	[[ -e $RES/$key.vipd || -e $RES/$key.keepalived || -e $RES/$key.vipd.txt || -e $RES/$key.keepalived.txt ]] || return 0
	if [[ ${4:-} != noratio && -s $RES/$key.vipd && -s $RES/$key.keepalived ]]; then
		r=$(awk -v a="$(median_of "$key.vipd")" -v b="$(median_of "$key.keepalived")" 'BEGIN {if (a > 0 && b > 0) printf "%.2f", a / b; else print "-"}')
	fi
	[[ -s $RES/$key.notes ]] && label+=" *"
	printf '%-52s %-26s %-26s %s\n' "$label" "$(cell "$key.vipd" "$dec")" "$(cell "$key.keepalived" "$dec")" "$r"
}
echo
echo "timing benchmark ($(date -u +%F), $(nproc) cores, $(uname -r)): $ROUNDS rounds (overhead, race), MASS_ROUNDS=$MASS_ROUNDS, SCALE_ROUNDS=$SCALE_ROUNDS x SETTLE_SECONDS=$SETTLE_SECONDS; median [min..max]"
printf '%-52s %-26s %-26s %s\n' "" vipd keepalived vipd/keepalived
for int in ${BENCH_INTERVALS:-10 100}; do
	row "ov$int" "takeover overhead above MDI, $int ms adverts (ms)" 2
done
row race "three-backup race at 10 ms (rounds c master)" 0 noratio
row load_cpu "200 inst @10 ms: CPU a+b (% of a core)" 1
row load_rss "200 inst @10 ms: RSS a+b (MiB)" 0
row scale_settle "1000 inst @100 ms: settle after start (ms)" 0
row scale_startup "1000 inst: state changes until settled (3000 min.)" 0
row scale_changes "1000 inst: state changes in ${SETTLE_SECONDS} s once settled" 0 noratio
row scale_cpu "1000 inst: CPU a+b (% of a core, 10 s slices)" 1
row scale_cpu_a "1000 inst: CPU a, master of all (%)" 1
row scale_cpu_b "1000 inst: CPU b, backup of all (%)" 1
row scale_rss "1000 inst: RSS a+b (MiB)" 0
row mass_first "mass 250x4: first VIP after a's last advert (ms)" 1
row mass_first_mdi "mass 250x4: first VIP minus MDI 360.94 (ms)" 1 noratio
row mass_last "mass 250x4: last VIP after a's last advert (ms)" 1
row mass_last_mdi "mass 250x4: last VIP minus MDI (ms)" 1 noratio
row mass_inst_first_mdi "mass 250x4: per instance, earliest, - MDI (ms)" 1 noratio
row mass_inst_last_mdi "mass 250x4: per instance, latest, - MDI (ms)" 1 noratio
row mass_gap "mass 250x4: largest advert gap of b (intervals)" 2
row mass_changes "mass 250x4: b's state changes per takeover (250)" 0 noratio
row mass_adds "mass 250x4: VIP adds b's monitor saw (1000)" 0 noratio
if compgen -G "$RES/*.notes" >/dev/null; then
	echo "* notes:"
	cat "$RES"/*.notes | sed 's/^/  /'
fi
pass
