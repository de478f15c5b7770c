#!/usr/bin/env bash
# 100 instances per agent (VRIDs 1..100 on one interface, 100 ms adverts, VIPs 10.99.1.1-100):
# a has 150 on odd VRIDs and 100 on even ones, b the reverse, so each agent should end up master
# of half. The two agents start at the same instant. Once settled (every instance: the expected
# master and a backup, its VIP on the master only) no instance may change state for 10 s and
# every VIP stays on exactly one host. Metrics: time to settle from the start, and each agent's
# CPU time over the steady window (/proc/PID/stat utime + stime). The VIPs are /32: VIPs sharing
# a /24 outside the interface's own subnet are t_chaos_subnet's subject.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init cm

N=100 STEADY=10
lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
# many_conf HIGH_PARITY: N instances; priority 150 where VRID % 2 == HIGH_PARITY, else 100.
many_conf() {
	local v
	for v in $(seq "$N"); do
		printf '[[instance]]\nname = "v%d"\ninterface = "eth0"\nvrid = %d\npriority = %d\n' \
			"$v" "$v" $((v % 2 == $1 ? 150 : 100))
		printf 'advert_interval = "100ms"\nvirtual_addresses = ["10.99.1.%d/32"]\n\n' "$v"
	done
}
many_conf 1 | vipd_conf a
many_conf 0 | vipd_conf b

# snapshot HOST: "vrid state transitions" per instance, sorted by VRID.
snapshot() { vipd_status "$1" | jq -r '.instances[] | "\(.vrid) \(.state) \(.transitions)"' | sort -n; }
# many_ok: every VRID has its expected master (a: odd, b: even) and a backup, and its VIP is
# on the master only. On failure the first problems are in $LAB_DIR/many.why.
many_ok() {
	snapshot a >"$LAB_DIR/a.snap" && snapshot b >"$LAB_DIR/b.snap" || return 1
	ip -n "$(ns a)" -4 -o addr show dev eth0 >"$LAB_DIR/a.addr"
	ip -n "$(ns b)" -4 -o addr show dev eth0 >"$LAB_DIR/b.addr"
	awk -v n="$N" '
		FILENAME ~ /a\.snap$/ { sa[$1] = $2 }
		FILENAME ~ /b\.snap$/ { sb[$1] = $2 }
		FILENAME ~ /\.addr$/ { split($4, p, "/"); if (p[1] ~ /^10\.99\.1\./) { split(p[1], o, "."); h[o[4]] = h[o[4]] (FILENAME ~ /a\.addr$/ ? "a" : "b") } }
		END {
			for (v = 1; v <= n; v++) {
				m = v % 2 ? "a" : "b"
				want_a = m == "a" ? "master" : "backup"; want_b = m == "b" ? "master" : "backup"
				if (sa[v] != want_a || sb[v] != want_b || h[v] != m) {
					bad++
					if (bad <= 5) printf "vrid %d: a %s, b %s, VIP on \"%s\" (want %s master and holder)\n", v, sa[v], sb[v], h[v], m
				}
			}
			if (bad) printf "%d of %d instances not settled\n", bad, n
			exit bad > 0
		}' "$LAB_DIR/a.snap" "$LAB_DIR/b.snap" "$LAB_DIR/a.addr" "$LAB_DIR/b.addr" >"$LAB_DIR/many.why"
}

t0=$(now_ms)
spawn_vipd a "$LAB_DIR/a.toml"
spawn_vipd b "$LAB_DIR/b.toml"
metric start_skew_ms $(($(now_ms) - t0))
wait_until 5 "a's agent to answer" vipd_status a >/dev/null
wait_until 5 "b's agent to answer" vipd_status b >/dev/null
# Settled: many_ok, and the same states and transition counters for 600 ms (more than any
# instance's 360 ms master-down interval), so that no takeover is still under way. Start-up
# races (both sides master for a moment) are allowed; settle_ms is when the final view began.
deadline=$((t0 + 20000)) prev="" since=0
while :; do
	if many_ok; then
		cur=$(cat "$LAB_DIR/a.snap" "$LAB_DIR/b.snap")
		if [[ $cur != "$prev" ]]; then
			prev=$cur since=$(now_ms)
		elif (($(now_ms) - since >= 600)); then
			break
		fi
	else
		prev=""
	fi
	(($(now_ms) < deadline)) || fail "not all $N instances settled 20 s after the start: $(cat "$LAB_DIR/many.why")"
	sleep 0.05
done
settle=$((since - t0))
metric settle_ms "$settle"
# the fewest possible: init->backup everywhere, backup->master for each agent's 50
extra=$(($(awk '{ n += $3 } END { print n }' "$LAB_DIR/a.snap" "$LAB_DIR/b.snap") - 3 * N))
metric startup_extra_transitions "$extra"
ok "all $N instances settled $settle ms after the simultaneous start ($extra transitions beyond the minimum): a master of the odd VRIDs, b of the even"

cp "$LAB_DIR/a.snap" "$LAB_DIR/a.before"
cp "$LAB_DIR/b.snap" "$LAB_DIR/b.before"
hz=$(getconf CLK_TCK)
ca0=$(cpu_ticks "${LAB_PID_OF[a]}") cb0=$(cpu_ticks "${LAB_PID_OF[b]}") w0=$(now_ms)
always_for "$STEADY" "both agents running" agents_running a b
ca=$(($(cpu_ticks "${LAB_PID_OF[a]}") - ca0)) cb=$(($(cpu_ticks "${LAB_PID_OF[b]}") - cb0)) w=$(($(now_ms) - w0))
many_ok || fail "not settled any more after ${STEADY}s: $(cat "$LAB_DIR/many.why")"
for h in a b; do
	changed=$(diff "$LAB_DIR/$h.before" "$LAB_DIR/$h.snap" | grep -c '^>') || true
	((changed == 0)) || fail "$changed of $h's instances changed state in the steady ${STEADY}s: $(diff "$LAB_DIR/$h.before" "$LAB_DIR/$h.snap" | head -6 | paste -sd' ')"
done
metric cpu_ms_a $((ca * 1000 / hz))
metric cpu_ms_b $((cb * 1000 / hz))
metric cpu_pct_a "$(awk -v t="$ca" -v hz="$hz" -v w="$w" 'BEGIN { printf "%.1f", 100 * t / hz * 1000 / w }')"
metric cpu_pct_b "$(awk -v t="$cb" -v hz="$hz" -v w="$w" 'BEGIN { printf "%.1f", 100 * t / hz * 1000 / w }')"
ok "steady ${STEADY}s: no transitions, every VIP on exactly one host; CPU a $((ca * 1000 / hz)) ms, b $((cb * 1000 / hz)) ms"
pass
