#!/usr/bin/env bash
# Benchmark (not a test: run.sh does not pick it up). Reload without flap, vipd next to
# keepalived in the same lab: host a runs web (kept), db (priority changed) and old/new
# (removed/added, swapped each round) at 100 ms VRRPv3 adverts, master of all; b is a vipd
# backup. ROUNDS reloads of a (`vipd reload`; keepalived: SIGHUP) while a capture records
# web's adverts. Prints, per agent: web's largest advert gap, its state changes, and whether
# its address was ever deleted; then who holds web's address after a reload of a file that
# sets web's priority to 300 (invalid).
#   sudo netns-tests/bench_reload.sh [ROUNDS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
lab_init br

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24

# keepalived_instance NAME VRID PRIO ADDR: the keepalived twin of lib.sh's named_instance.
keepalived_instance() {
	printf 'vrrp_instance %s {\n  state BACKUP\n  interface eth0\n  virtual_router_id %s\n' "$1" "$2"
	printf '  version 3\n  priority %s\n  advert_int 0.1\n  virtual_ipaddress {\n    %s/24\n  }\n}\n' "$3" "$4"
}
# a_conf AGENT ROUND: a's file for that round (odd rounds: old, even: new; db's priority moves)
a_conf() {
	local agent=$1 round=$2 third
	if ((round % 2)); then third="new 54 150 10.99.0.80"; else third="old 53 150 10.99.0.70"; fi
	if [[ $agent == vipd ]]; then
		{
			named_instance web 51 150 "$VIP4"
			named_instance db 52 $((140 + round % 2)) 10.99.0.60
			# shellcheck disable=SC2086 # the words are the arguments
			named_instance $third
		} | vipd_conf a
	else
		{
			printf 'global_defs {\n  router_id a\n}\n'
			keepalived_instance web 51 150 "$VIP4"
			keepalived_instance db 52 $((140 + round % 2)) 10.99.0.60
			# shellcheck disable=SC2086
			keepalived_instance $third
		} >"$LAB_DIR/a.keepalived.conf"
	fi
}

{
	named_instance web 51 100 "$VIP4"
	named_instance db 52 100 10.99.0.60
	named_instance old 53 100 10.99.0.70
	named_instance new 54 100 10.99.0.80
} | vipd_conf b
start_vipd b "$LAB_DIR/b.toml"

measure() {
	local agent=$1 r before gap deleted t0
	a_conf "$agent" 0
	if [[ $agent == vipd ]]; then
		start_vipd a "$LAB_DIR/a.toml"
	else
		start_keepalived a "$LAB_DIR/a.keepalived.conf"
	fi
	wait_until 10 "$agent on a to hold $VIP4" only_holder "$VIP4" a a b
	sleep 1
	before=$(state_changes b web)
	t0=$(now_ms)
	capture_start "$agent"
	for r in $(seq "$ROUNDS"); do
		a_conf "$agent" "$r"
		if [[ $agent == vipd ]]; then
			"$VIPD" reload --socket "$LAB_DIR/a.sock" >/dev/null || fail "vipd reload failed"
		else
			kill -HUP "${LAB_PID_OF[a]}"
		fi
		sleep 1
	done
	capture_stop
	gap=$(cap_fields "vrrp.virt_rtr_id == 51 && ip.src == 10.99.0.1" frame.time_epoch |
		awk 'NR > 1 {g = ($1 - p) * 1000; if (g > m) m = g} {p = $1} END {printf "%d", m}')
	deleted=no
	has_addr_event a "$VIP4" del "$t0" && deleted=yes
	printf '%-10s web largest advert gap %4d ms; b state changes for web %d; VIP deleted on a: %s\n' \
		"$agent" "$gap" $(($(state_changes b web) - before)) "$deleted"
	# An invalid file: web at priority 300.
	a_conf "$agent" 0
	if [[ $agent == vipd ]]; then
		sed -i '0,/^priority = 150$/s//priority = 300/' "$LAB_DIR/a.toml"
		"$VIPD" reload --socket "$LAB_DIR/a.sock" >/dev/null 2>&1 && fail "vipd accepted priority 300"
	else
		sed -i '0,/priority 150/s//priority 300/' "$LAB_DIR/a.keepalived.conf"
		kill -HUP "${LAB_PID_OF[a]}"
	fi
	sleep 2
	printf '%-10s after a reload with web at priority 300: %s holds %s\n' "$agent" "$(holders "$VIP4" a b)" "$VIP4"
	stop_agent a
}

monitor_start a
echo "reload of a, $ROUNDS rounds, 100 ms adverts ($(date -u +%F), $(nproc) cores)"
measure vipd
measure keepalived
pass
