# shellcheck shell=bash
# netns-tests/vmac.sh: helpers for the virtual-MAC tests and bench_vmac.sh, sourced after
# lib.sh. Hosts a (10.99.0.1) and b (10.99.0.2) run the standard instance "web"; client c
# (10.99.0.9) pings the VIP.

VMAC4=00:00:5e:00:01:33 # RFC 9568 virtual MAC of VRID 51, IPv4
VMAC_IF=vipd4.51        # vipd's default macvlan name for it

# link_of HOST IFACE: the `ip -o link` line of IFACE in HOST (empty if none).
link_of() { ip -n "$(ns "$1")" -o link show dev "$2" 2>/dev/null || true; }
# has_link HOST IFACE / link_up HOST IFACE (administratively up)
has_link() { [[ -n $(link_of "$1" "$2") ]]; }
link_up() { link_of "$1" "$2" | grep -q '<[^>]*[<,]UP[,>]'; }
# has_addr_on HOST IFACE ADDR
has_addr_on() {
	ip -n "$(ns "$1")" -o addr show dev "$2" 2>/dev/null |
		awk -v a="${3%/*}" '{ split($4, p, "/"); if (p[1] == a) f = 1 } END { exit !f }'
}
# addr_count HOST ADDR: on how many interfaces of HOST the address is configured.
addr_count() { ip -n "$(ns "$1")" -o addr show | awk -v a="${2%/*}" '{ split($4, p, "/"); if (p[1] == a) n++ } END { print n + 0 }'; }
# neigh_mac HOST ADDR: HOST's neighbour-table MAC for ADDR (empty if none).
neigh_mac() { ip -n "$(ns "$1")" neigh show "$2" | awk '{ for (i = 1; i <= NF; i++) if ($i == "lladdr") print $(i + 1) }'; }
neigh_is() { [[ $(neigh_mac "$1" "$2") == "$3" ]]; }
sysctl_of() { nsx "$1" cat "/proc/sys/net/$2"; }

# ping_start HOST ADDR NAME: ping ADDR every 10 ms with timestamps into $LAB_DIR/NAME.ping.
ping_start() {
	ip netns exec "$(ns "$1")" ping -n -D -i 0.01 "$2" >"$LAB_DIR/$3.ping" 2>&1 &
	PING_PID=$!
	LAB_PIDS+=($!)
	wait_until 5 "$1 to get an answer from $2" grep -qs 'bytes from' "$LAB_DIR/$3.ping"
}
ping_stop() { lab_kill INT "$PING_PID"; wait_until 5 "ping to exit" not alive "$PING_PID"; wait "$PING_PID" 2>/dev/null || true; }
# ping_max_gap_ms NAME SINCE_MS: the longest time without a reply from SINCE_MS to the last reply.
ping_max_gap_ms() {
	awk -v since="$2" '/bytes from/ {
		t = substr($1, 2, length($1) - 2) * 1000
		if (t < since) { last = t; next }
		if (last && t - last > gap) gap = t - last
		last = t
	} END { printf "%d\n", gap }' "$LAB_DIR/$1.ping"
}

# neigh_watch_start HOST ADDR NAME: HOST's MAC for ADDR every 20 ms into $LAB_DIR/NAME.neigh.
neigh_watch_start() {
	local n
	n=$(ns "$1")
	(while :; do
		ip -n "$n" neigh show "$2" | awk '{ m = "-"; for (i = 1; i <= NF; i++) if ($i == "lladdr") m = $(i + 1); print m }'
		sleep 0.02
	done) >"$LAB_DIR/$3.neigh" 2>/dev/null &
	WATCH_PID=$!
	LAB_PIDS+=($!)
}
neigh_watch_stop() { lab_kill TERM "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true; }
# neigh_seen NAME: the distinct MACs the watch saw, in order of first sight, space separated.
neigh_seen() { awk '!s[$1]++ { printf "%s%s", (n++ ? " " : ""), $1 } END { print "" }' "$LAB_DIR/$1.neigh"; }

# vmac_pair INTERVAL VMAC(true|false) [EXTRA TOML LINE...]: a (150) master, b (100) backup,
# client c pinging $VIP4 (ping_start), a's MAC for the VIP learnt by c.
vmac_pair() {
	local int=$1 vmac=$2
	shift 2
	vip_instance 150 "$int" "virtual_mac = $vmac" "$@" | vipd_conf a
	vip_instance 100 "$int" "virtual_mac = $vmac" "$@" | vipd_conf b
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "a (150) to become master" is_state a web master
	start_vipd b "$LAB_DIR/b.toml"
	wait_until 5 "b (100) to be backup" is_state b web backup
}

# outage_round NAME: cut a's link while c pings the VIP; b takes over. Leaves CUT_MS (the
# cut, epoch ms) and OUTAGE_MS (the longest time c went without a reply). c must answer again
# within OUTAGE_WAIT seconds (default 5).
outage_round() {
	local name=$1
	ping_start c "$VIP4" "$name"
	sleep 1.2 # past the neighbour entry's locktime, so an announcement is not ignored
	CUT_MS=$(now_ms)
	cut_link a
	wait_until 5 "b to become master" is_state b web master
	wait_until "${OUTAGE_WAIT:-5}" "c to get answers again" ping_answers_since "$name" "$CUT_MS"
	sleep 0.3
	ping_stop
	OUTAGE_MS=$(ping_max_gap_ms "$name" "$CUT_MS")
}
ping_answers_since() { awk -v since="$2" '/bytes from/ { t = substr($1, 2, length($1) - 2) * 1000; if (t > since) f = 1 } END { exit !f }' "$LAB_DIR/$1.ping"; }

# vip_on_vmac_of HOST: HOST is master with $VIP4 on its up macvlan, and not on eth0.
vip_on_vmac_of() {
	is_state "$1" web master && link_up "$1" "$VMAC_IF" && has_addr_on "$1" "$VMAC_IF" "$VIP4" && not has_addr "$1" "$VIP4"
}
a_released() { not has_addr_on a "$VMAC_IF" "$VIP4" && not link_up a "$VMAC_IF"; }
