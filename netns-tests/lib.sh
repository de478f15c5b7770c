# shellcheck shell=bash
# netns-tests/lib.sh: the lab every netns test sources (never run it directly).
#
# A lab is a "switch" namespace holding bridge br0 plus one namespace per host, each with an
# eth0 veth'd to the bridge. Everything is named  vt<PID><TAG><host>  and removed, with every
# process the test started, by a trap on every exit path. Addresses: 10.99.0.0/24, fd00:99::/64.
set -euo pipefail
export LC_ALL=C

NT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$NT_DIR/.." && pwd)
VIPD=${VIPD:-$REPO/target/release/vipd}
# shellcheck disable=SC2034 # read by the tests
{
	VIP4=10.99.0.50
	VIP6=fd00:99::50
	ADV='vrrp && !icmp && !icmpv6' # tshark filter for adverts, not ICMP errors quoting one
}

LAB_PREFIX="" LAB_DIR="" LAB_FAILED="" CAP_FILE="" CAP_PID=""
LAB_NS=()   # namespaces this test created
LAB_PIDS=() # processes this test started
LAB_LOGS=() # agent logs, printed on failure
declare -A LAB_PID_OF=() LAB_MAC=()

# ---- results ------------------------------------------------------------------------------
fail() { LAB_FAILED="$*"; echo "FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }
metric() { echo "metric: $1=$2"; }
pass() { echo PASS; exit 0; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
not() { ! "$@"; }

# ---- lab lifetime -------------------------------------------------------------------------
# lab_init TAG: TAG is 1-2 letters naming the test; hosts then get names of at most 4 letters.
lab_init() {
	lab_init_dir "$1"
	ns_add sw
	ip netns exec "$(ns sw)" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$(ns sw)" link add br0 type bridge forward_delay 0 mcast_snooping 0
	ip -n "$(ns sw)" link set br0 up
}

# lab_init_dir TAG: only the lab directory and the cleanup trap (tests without namespaces).
lab_init_dir() {
	[[ $(id -u) == 0 ]] || { echo "netns tests must run as root" >&2; exit 1; }
	LAB_PREFIX="vt$$$1"
	LAB_DIR=$(mktemp -d "/tmp/vipd-netns-$1.XXXXXX")
	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

ns() { printf '%s%s' "$LAB_PREFIX" "$1"; }

ns_add() {
	local n
	n=$(ns "$1")
	((${#n} <= 15)) || fail "namespace name $n is longer than 15 characters"
	ip netns add "$n"
	LAB_NS+=("$n")
}

# Signal a process only if it is still a child of this shell (never a recycled PID).
lab_kill() {
	local sig=$1 pid=$2 ppid
	ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || return 0
	[[ $ppid == "$$" ]] && kill "-$sig" "$pid" 2>/dev/null
	return 0
}

alive() { [[ -e /proc/$1 ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }

lab_cleanup() {
	local rc=$? pid n i f
	trap - EXIT INT TERM
	set +e
	if ((rc != 0)) && ((${#LAB_LOGS[@]} > 0)); then
		for f in "${LAB_LOGS[@]}"; do
			echo "----- $(basename "$f") (last 60 lines) -----"
			tail -n 60 "$f"
		done
	fi
	for pid in "${LAB_PIDS[@]}"; do lab_kill TERM "$pid"; done
	for i in $(seq 50); do
		n=0
		for pid in "${LAB_PIDS[@]}"; do alive "$pid" && n=1; done
		((n == 0)) && break
		sleep 0.05
	done
	for pid in "${LAB_PIDS[@]}"; do lab_kill KILL "$pid"; done
	for ((i = ${#LAB_NS[@]} - 1; i >= 0; i--)); do
		# anything still inside our own namespaces was started by this test
		for pid in $(ip netns pids "${LAB_NS[i]}" 2>/dev/null); do
			echo "cleanup: killing leftover $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid) in ${LAB_NS[i]}" >&2
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "${LAB_NS[i]}"
	done
	if ((rc == 0)); then
		rm -rf "$LAB_DIR"
	else
		echo "lab files kept in $LAB_DIR"
		[[ -n $LAB_FAILED ]] && echo "FAIL: $LAB_FAILED"
	fi
	exit "$rc"
}

# ---- hosts --------------------------------------------------------------------------------
# lab_host NAME IPV4/24 [IPV6/64|-] [MAC]: namespace with lo and eth0 (veth to br0) up.
# MAC defaults to 02:99:00:00:00:<last IPv4 byte in hex>.
lab_host() {
	local host=$1 v4=$2 v6=${3:--} mac=${4:-} n last=${2%/*}
	ns_add "$host"
	n=$(ns "$host")
	[[ -n $mac ]] || mac=$(printf '02:99:00:00:00:%02x' "${last##*.}")
	ip -n "$(ns sw)" link add "v$host" type veth peer name eth0 netns "$n"
	ip -n "$(ns sw)" link set "v$host" master br0 up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.eth0.accept_dad=0 net.ipv6.conf.eth0.router_solicitations=0
	ip -n "$n" link set eth0 address "$mac"
	ip -n "$n" link set lo up
	ip -n "$n" addr add "$v4" dev eth0
	[[ $v6 == - ]] || ip -n "$n" addr add "$v6" dev eth0
	ip -n "$n" link set eth0 up
	# shellcheck disable=SC2034 # read by the tests
	LAB_MAC[$host]=$mac
}

# lab_link HOST IFACE BRIDGE IPV4/24: a second interface for HOST, veth'd to BRIDGE in the
# switch namespace (created on first use; another LAN than br0), up.
lab_link() {
	local host=$1 ifc=$2 br=$3 v4=$4 n sw
	n=$(ns "$host")
	sw=$(ns sw)
	if ! ip -n "$sw" link show "$br" >/dev/null 2>&1; then
		ip -n "$sw" link add "$br" type bridge forward_delay 0 mcast_snooping 0
		ip -n "$sw" link set "$br" up
	fi
	ip -n "$sw" link add "v$host$ifc" type veth peer name "$ifc" netns "$n"
	ip -n "$sw" link set "v$host$ifc" master "$br" up
	ip netns exec "$n" sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0"
	ip -n "$n" addr add "$v4" dev "$ifc"
	ip -n "$n" link set "$ifc" up
}

# nsx HOST CMD...: run CMD in HOST (never in the background: use ip netns exec for that,
# so that $! is the process itself).
nsx() { local h=$1; shift; ip netns exec "$(ns "$h")" "$@"; }

# The host's link-local IPv6 address on eth0.
lladdr() { ip -n "$(ns "$1")" -6 -o addr show dev eth0 scope link | awk '{sub("/.*", "", $4); print $4; exit}'; }

has_addr() {
	ip -n "$(ns "$1")" -o addr show dev eth0 |
		awk -v a="${2%/*}" '{ split($4, p, "/"); if (p[1] == a) f = 1 } END { exit !f }'
}

# addr_line HOST ADDR: the `ip -o addr` line of ADDR (flags such as tentative, nodad).
addr_line() { ip -n "$(ns "$1")" -o addr show dev eth0 | awk -v a="${2%/*}" '{ split($4, p, "/"); if (p[1] == a) print }'; }

# holders ADDR HOST...: the hosts among HOST... that have ADDR, space separated.
holders() {
	local a=$1 h out=""
	shift
	for h in "$@"; do has_addr "$h" "$a" && out+="$h "; done
	echo "${out% }"
}
only_holder() { [[ $(holders "$1" "${@:3}") == "$2" ]]; } # only_holder ADDR HOST ALLHOSTS...

cut_link() { ip -n "$(ns sw)" link set "v$1" down; }
restore_link() { ip -n "$(ns sw)" link set "v$1" up; }

# ---- waiting ------------------------------------------------------------------------------
# ms_of SECONDS: "2" or "1.5" -> milliseconds.
ms_of() {
	local i=${1%.*} f=000
	[[ $1 == *.* ]] && f=${1#*.}000
	echo $((10#${i:-0} * 1000 + 10#${f:0:3}))
}

# wait_until SECONDS "what should happen" CMD...: poll CMD until it succeeds, or fail.
wait_until() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$(($(now_ms) + $(ms_of "$secs")))
	until "$@"; do
		(($(now_ms) < deadline)) || fail "timed out after ${secs}s waiting for: $what"
		sleep 0.02
	done
}

# always_for SECONDS "what must stay true" CMD...: CMD must succeed at every poll for SECONDS.
always_for() {
	local secs=$1 what=$2 start deadline
	shift 2
	start=$(now_ms)
	deadline=$((start + $(ms_of "$secs")))
	while (($(now_ms) < deadline)); do
		"$@" || fail "stopped being true after $(($(now_ms) - start)) ms: $what"
		sleep 0.02
	done
}

# skew_ms PRIO ADVERT_MS: VRRPv3 Skew_Time, computed in centiseconds as the RFC does.
skew_ms() { echo $(((256 - $1) * $2 / 256)); } # whole ms, rounded down (vipd keeps microseconds)
# takeover_bound_ms PRIO ADVERT_MS: a correctness bound for a VRRPv3 takeover after the master
# vanishes: Master_Down_Interval (3 intervals + skew) plus 500 ms for scheduling and the
# kernel's address event. Not a speed target.
takeover_bound_ms() { echo $((3 * $2 + $(skew_ms "$1" "$2") + 500)); }

# ---- vipd ---------------------------------------------------------------------------------
# vip_instance PRIO INTERVAL [EXTRA TOML LINE...]: the standard IPv4 test instance "web".
vip_instance() {
	local prio=$1 int=$2
	shift 2
	printf '[[instance]]\nname = "web"\ninterface = "eth0"\nvrid = 51\npriority = %s\n' "$prio"
	printf 'advert_interval = "%s"\nvirtual_addresses = ["%s/24"]\n' "$int" "$VIP4"
	if (($# > 0)); then printf '%s\n' "$@"; fi
}

# named_instance NAME VRID PRIO ADDR...: an IPv4 instance on eth0 at 100 ms adverts, each ADDR
# a /24 virtual address (for tests with several instances per host).
named_instance() {
	local name=$1 vrid=$2 prio=$3 list
	shift 3
	list=$(printf '"%s/24", ' "$@")
	printf '[[instance]]\nname = "%s"\ninterface = "eth0"\nvrid = %s\npriority = %s\n' "$name" "$vrid" "$prio"
	printf 'advert_interval = "100ms"\nvirtual_addresses = [%s]\n\n' "${list%, }"
}

# vipd_conf HOST < instance TOML: writes $LAB_DIR/HOST.toml with this lab's [global].
vipd_conf() {
	{
		printf '[global]\nrouter_id = "%s"\ncontrol_socket = "%s/%s.sock"\n\n' "$1" "$LAB_DIR" "$1"
		cat
	} >"$LAB_DIR/$1.toml"
}

# pair_up INTERVAL: hosts a (10.99.0.1, priority 150) and b (10.99.0.2, priority 100) running
# the standard instance "web"; returns once a is master alone with $VIP4 and b is backup.
pair_up() {
	lab_host a 10.99.0.1/24
	lab_host b 10.99.0.2/24
	vip_instance 150 "$1" | vipd_conf a
	vip_instance 100 "$1" | vipd_conf b
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "a (150) to become master" is_state a web master
	start_vipd b "$LAB_DIR/b.toml"
	wait_until 5 "b (100) to be backup" is_state b web backup
	wait_until 3 "$VIP4 on a only" roles web "$VIP4" a b
	ok "a master with $VIP4, b backup"
}

# start_vipd HOST CONF: spawn_vipd, then wait until the agent answers on its control socket.
start_vipd() {
	spawn_vipd "$1" "$2"
	wait_until 5 "vipd on $1 to answer on its control socket" vipd_status "$1" >/dev/null
}

# stop_agent HOST [SIGNAL] [SECONDS]: signal HOST's agent, wait (at most SECONDS, default 5) for
# it to exit; sets AGENT_RC.
stop_agent() {
	local host=$1 sig=${2:-TERM} secs=${3:-5} pid=${LAB_PID_OF[$1]}
	lab_kill "$sig" "$pid"
	AGENT_RC=0
	{ # stderr muted: bash reports children killed by a signal ("Killed") there
		wait_until "$secs" "the agent on $host (pid $pid) to exit after SIG$sig" not alive "$pid"
		# shellcheck disable=SC2034 # read by the tests
		wait "$pid" || AGENT_RC=$?
	} 2>/dev/null
}

vipd_status() { "$VIPD" status --socket "$LAB_DIR/$1.sock" --json 2>/dev/null; }

# track_field HOST TRACK JQ_PATH: a field of a tracked object in HOST's status, e.g. .verdict.healthy
track_field() {
	vipd_status "$1" | jq -r --arg t "$2" ".tracks[] | select(.name == \$t) | $3 | tostring" 2>/dev/null
}

# vipd_field HOST INSTANCE FIELD (state, priority, master_address, ...)
vipd_field() {
	vipd_status "$1" | jq -r --arg n "$2" --arg f "$3" '.instances[] | select(.name == $n) | .[$f] | tostring' 2>/dev/null
}
vipd_state() { vipd_field "$1" "$2" state; }
# field_is HOST INSTANCE FIELD VALUE / field_at_least HOST INSTANCE FIELD N: for wait_until,
# which runs its command again each time (a "$(...)" argument would be read only once).
field_is() { [[ $(vipd_field "$1" "$2" "$3") == "$4" ]]; }
field_at_least() { local v; v=$(vipd_field "$1" "$2" "$3"); [[ $v =~ ^[0-9]+$ ]] && ((v >= $4)); }
is_state() { [[ $(vipd_state "$1" "$2") == "$3" ]]; } # is_state HOST INSTANCE STATE

# roles INSTANCE ADDR MASTER BACKUP...: MASTER is master and alone holds ADDR, the others backup.
roles() {
	local inst=$1 addr=$2 m=$3 h
	shift 2
	is_state "$m" "$inst" master || return 1
	for h in "${@:2}"; do is_state "$h" "$inst" backup || return 1; done
	only_holder "$addr" "$m" "$@"
}

# ---- keepalived ---------------------------------------------------------------------------
# keepalived_conf HOST VERSION PRIO ADVERT_INT [AUTH_PASS]: one instance "web", VRID 51, VIP4.
keepalived_conf() {
	local host=$1 ver=$2 prio=$3 int=$4 auth=${5:-}
	{
		printf 'global_defs {\n  router_id %s\n}\n' "$host"
		printf 'vrrp_instance web {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n'
		printf '  version %s\n  priority %s\n  advert_int %s\n' "$ver" "$prio" "$int"
		[[ -z $auth ]] || printf '  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n' "$auth"
		printf '  virtual_ipaddress {\n    %s/24\n  }\n}\n' "$VIP4"
	} >"$LAB_DIR/$host.keepalived.conf"
}

start_keepalived() { keepalived_exec "$1" "$2" check; }
# spawn_keepalived HOST CONF: start_keepalived without checking CONF first (check it with
# `keepalived -t -f CONF` beforehand), so that agents with large files start at one instant.
spawn_keepalived() { keepalived_exec "$1" "$2" nocheck; }
keepalived_exec() {
	local host=$1 conf=$2 log="$LAB_DIR/$1.keepalived.log"
	[[ " ${LAB_LOGS[*]} " == *" $log "* ]] || LAB_LOGS+=("$log")
	mkdir -p "$LAB_DIR/$host.tmp"
	echo "=== $(date +%T.%N) START keepalived -f $conf" >>"$log"
	if [[ $3 == check ]]; then
		keepalived -t -f "$conf" >>"$log" 2>&1 || fail "keepalived rejects $conf (see $log)"
	fi
	ip netns exec "$(ns "$host")" env TMPDIR="$LAB_DIR/$host.tmp" keepalived -n -l -G -D -P -f "$conf" \
		-p "$LAB_DIR/$host.keepalived.pid" -r "$LAB_DIR/$host.vrrp.pid" >>"$log" 2>&1 &
	LAB_PID_OF[$host]=$!
	LAB_PIDS+=($!)
}

# keepalived_log HOST: the log of HOST's keepalived since its last start.
keepalived_log() { awk '/^=== .* START /{n = NR} {l[NR] = $0} END {for (i = n + 1; i <= NR; i++) print l[i]}' "$LAB_DIR/$1.keepalived.log"; }
keepalived_last_state() {
	keepalived_log "$1" | grep -oE 'Entering (MASTER|BACKUP|FAULT) STATE' | tail -n 1 | awk '{print $2}'
}
is_keepalived_state() { [[ $(keepalived_last_state "$1") == "$2" ]]; }

# ---- firewall -----------------------------------------------------------------------------
# nft_rule HOST in|out RULE: append RULE to table inet lab in HOST (input or output hook).
nft_rule() {
	local host=$1 dir=$2 rule=$3 hook f="$LAB_DIR/$1.nft"
	case $dir in in) hook=input ;; out) hook=output ;; *) fail "nft_rule: direction must be in or out" ;; esac
	printf 'table inet lab {\n  chain %s {\n    type filter hook %s priority 0; policy accept;\n    %s\n  }\n}\n' \
		"$dir" "$hook" "$rule" >"$f"
	nsx "$host" nft -f "$f" || fail "nft rejected $f"
}

# nft_drop_vrrp HOST in|out PERCENT: drop that share of VRRP (IP protocol 112) packets.
nft_drop_vrrp() {
	if (($3 >= 100)); then
		nft_rule "$1" "$2" "meta l4proto 112 drop"
	else
		nft_rule "$1" "$2" "meta l4proto 112 numgen random mod 100 < $3 drop"
	fi
}
nft_flush() { nsx "$1" nft delete table inet lab 2>/dev/null || true; }

# ---- address events -----------------------------------------------------------------------
# monitor_start HOST: `ip -ts monitor address` in HOST, running (proven) before this returns.
monitor_start() {
	local host=$1 f="$LAB_DIR/$1.mon"
	ip netns exec "$(ns "$host")" ip -ts -o monitor address >"$f" 2>&1 &
	LAB_PIDS+=($!)
	wait_until 5 "the address monitor in $host to report a test address" monitor_sees_marker "$host"
}
monitor_sees_marker() {
	nsx "$1" ip addr replace 127.0.0.99/32 dev lo
	sleep 0.05
	nsx "$1" ip addr del 127.0.0.99/32 dev lo
	grep -q '127\.0\.0\.99' "$LAB_DIR/$1.mon"
}

# addr_event_ms HOST ADDR add|del [SINCE_MS]: epoch ms of the first such event at/after SINCE_MS.
addr_event_ms() {
	local host=$1 a=${2%/*} kind=$3 since=${4:-0} line ts ms
	while IFS= read -r line; do
		[[ $line =~ ^\[([0-9T:.-]+)\]\ (Deleted\ )?[0-9]+:\ +eth0\ +inet6?\ ([^/ ]+)/ ]] || continue
		[[ ${BASH_REMATCH[3]} == "$a" ]] || continue
		if [[ -n ${BASH_REMATCH[2]} ]]; then [[ $kind == del ]] || continue; else [[ $kind == add ]] || continue; fi
		ts=${BASH_REMATCH[1]}
		ms=$(date -d "$ts" +%s%3N)
		((ms >= since)) && { echo "$ms"; return 0; }
	done <"$LAB_DIR/$host.mon"
	return 1
}
has_addr_event() { addr_event_ms "$@" >/dev/null; }

# takeover_after_cut CUT NEW ADDR SECONDS METRIC: cut CUT's link, wait (bounded) until NEW's
# kernel adds ADDR (monitor_start NEW first), report the time from the cut as metric METRIC
# and leave it in TAKEOVER_MS.
takeover_after_cut() {
	local cut=$1 new=$2 addr=$3 secs=$4 name=$5 t0
	t0=$(now_ms)
	cut_link "$cut"
	wait_until "$secs" "$new to add $addr after $cut's link was cut" has_addr_event "$new" "$addr" add "$t0"
	TAKEOVER_MS=$(($(addr_event_ms "$new" "$addr" add "$t0") - t0))
	metric "$name" "$TAKEOVER_MS"
}

# ---- packet capture -----------------------------------------------------------------------
# capture_start NAME [BPF...]: tcpdump on br0 into $LAB_DIR/NAME.pcap (= $CAP_FILE), listening on
# return; BPF (e.g. ip proto 112) keeps floods of other packets out of the capture and its buffer.
capture_start() {
	local name=$1
	shift
	CAP_FILE="$LAB_DIR/$name.pcap"
	ip netns exec "$(ns sw)" tcpdump -i br0 -n -U --immediate-mode -w "$CAP_FILE" "$@" 2>"$LAB_DIR/$name.tcpdump.log" &
	CAP_PID=$!
	LAB_PIDS+=($!)
	wait_until 5 "tcpdump to listen on br0" grep -qs "listening on" "$LAB_DIR/$name.tcpdump.log"
}

capture_stop() {
	lab_kill INT "$CAP_PID"
	wait_until 5 "tcpdump to exit" not alive "$CAP_PID"
	wait "$CAP_PID" || true
}

# cap_fields FILTER FIELD...: one line per matching packet of the current capture.
cap_fields() {
	local filter=$1 args=() f
	shift
	for f in "$@"; do args+=(-e "$f"); done
	tshark -r "$CAP_FILE" -Y "$filter" -T fields -E separator=' ' "${args[@]}" 2>"$LAB_DIR/tshark.err" || true
	if grep '^tshark:' "$LAB_DIR/tshark.err" | grep -qv 'cut short'; then
		echo "tshark filter error: $(cat "$LAB_DIR/tshark.err")" >&2
		return 1
	fi
}
cap_count() { cap_fields "$1" frame.number | wc -l; }
cap_at_least() { (($(cap_count "$2") >= $1)); } # cap_at_least N FILTER

# ---- chaos and hostile-input helpers (t_chaos_*, t_hostile*) -------------------------------
# spawn_vipd HOST CONF: like start_vipd but returns at once (start several agents together,
# then wait for each with wait_until ... vipd_status HOST).
spawn_vipd() {
	local host=$1 conf=$2 log="$LAB_DIR/$1.vipd.log"
	[[ -x $VIPD ]] || fail "vipd binary not found at $VIPD"
	[[ " ${LAB_LOGS[*]} " == *" $log "* ]] || LAB_LOGS+=("$log")
	echo "=== $(date +%T.%N) START vipd run -c $conf" >>"$log"
	ip netns exec "$(ns "$host")" "$VIPD" run -c "$conf" >>"$log" 2>&1 &
	LAB_PID_OF[$host]=$!
	LAB_PIDS+=($!)
}

# running PID: alive without forking (cheap enough to poll at 50 Hz for a minute).
running() {
	local stat rest
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${stat##*) }
	[[ ${rest:0:1} != Z ]]
}
# agents_running HOST...: the agent of every HOST is running.
agents_running() {
	local h
	for h in "$@"; do running "${LAB_PID_OF[$h]}" || return 1; done
}

# stats_ms [DECIMALS] < NUMBERS: "min M median M max M ms (n=N)" of one number per line, for
# the benchmarks; DECIMALS digits after the point (default 0).
stats_ms() {
	sort -n | awk -v d="${1:-0}" '{v[NR] = $1} END {f = "%." d "f"; printf "min " f " median " f " max " f " ms (n=%d)", v[1], v[int((NR + 1) / 2)], v[NR], NR}'
}

# cpu_ticks PID: utime + stime of PID in clock ticks (getconf CLK_TCK per second).
cpu_ticks() {
	local stat fld
	read -r stat <"/proc/$1/stat"
	read -ra fld <<<"${stat##*) }"
	echo $((fld[11] + fld[12])) # fields 14 and 15 of proc(5), counted from the state (field 3)
}

# state_changes HOST [INSTANCE]: how many state-change lines HOST's vipd log holds so far (all
# runs); count before and after a window to get the changes inside it.
state_changes() {
	local n
	n=$(grep -c "state change instance=${2:-[^ ]*} " "$LAB_DIR/$1.vipd.log" 2>/dev/null) || true
	echo "${n:-0}"
}
# state_change_lines HOST FROM_LINE_COUNT: the state-change lines after the first N of them.
state_change_lines() { grep "state change instance=" "$LAB_DIR/$1.vipd.log" | tail -n +$(($2 + 1)); }

# rx_field HOST JQ_PATH: a field of HOST's eth0 IPv4 receive counters, e.g. .received, .drops.ttl
rx_field() {
	vipd_status "$1" | jq -r ".receive[] | select(.interface == \"eth0\" and .family == \"ipv4\") | $2"
}

# raw_drops HOST: receive-buffer drops the kernel counted on HOST's raw IP-protocol-112 sockets.
raw_drops() {
	nsx "$1" cat /proc/net/raw | awk 'NR > 1 && $2 ~ /:0070$/ { n += $NF } END { print n + 0 }'
}

# nft_table HOST < TABLE TEXT: load multi-line nft text into HOST from a file (replaces nothing:
# delete an older table first with nft_flush when the text recreates it).
nft_table() {
	local f="$LAB_DIR/$1.table.nft"
	cat >"$f"
	nsx "$1" nft -f "$f" || fail "nft rejected $f"
}
# nft_counts HOST: packet counts of the counters in HOST's table inet lab, in rule order.
nft_counts() {
	nsx "$1" nft -j list table inet lab | jq -r '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | join(" ")'
}

# flap_link HOST SECONDS MIN_MS MAX_MS: take HOST's bridge-side veth down and up again and
# again for SECONDS, each state lasting a random MIN_MS..MAX_MS; leaves it up. Sets FLAPS.
flap_link() {
	local host=$1 end=$(($(now_ms) + $(ms_of "$2"))) lo=$3 hi=$4 d
	FLAPS=0
	while (($(now_ms) < end)); do
		cut_link "$host"
		d=$((lo + RANDOM % (hi - lo + 1)))
		sleep "0.$(printf '%03d' "$d")"
		restore_link "$host"
		FLAPS=$((FLAPS + 1))
		d=$((lo + RANDOM % (hi - lo + 1)))
		sleep "0.$(printf '%03d' "$d")"
	done
}

# ---- many instances (t_mass_takeover, bench_timing.sh) -------------------------------------
# agent_roles HOST vipd|keepalived: "CHANGES MASTERS BACKUPS OTHERS" from HOST's agent log since
# its last start: how many state-change lines it holds, and how many instances are master,
# backup or anything else (fault, init) by their last logged change. Works for both agents'
# logs (vipd: "state change instance=N ... to=S", keepalived: "(N) Entering S STATE"), so a
# benchmark judges them the same way.
agent_roles() {
	local f
	if [[ $2 == vipd ]]; then f="$LAB_DIR/$1.vipd.log"; else f="$LAB_DIR/$1.keepalived.log"; fi
	awk '
		/^=== .* START / { split("", last); c = 0; next }
		/ state change instance=/ {
			n = $0; sub(/.* state change instance=/, "", n); sub(/ .*/, "", n)
			s = $0; sub(/.* to=/, "", s); sub(/ .*/, "", s); gsub(/"/, "", s)
			last[n] = s; c++; next
		}
		match($0, /\([^)]*\) Entering [A-Z]+ STATE/) {
			t = substr($0, RSTART + 1, RLENGTH - 1)
			n = t; sub(/\) Entering .*/, "", n)
			s = t; sub(/.*\) Entering /, "", s); sub(/ STATE/, "", s)
			last[n] = tolower(s); c++
		}
		END {
			for (n in last) { if (last[n] == "master") m++; else if (last[n] == "backup") b++; else o++ }
			printf "%d %d %d %d\n", c, m, b, o
		}' "$f" 2>/dev/null || echo "0 0 0 0"
}

# vip_count HOST ERE: how many IPv4 /32 addresses of HOST (any interface) match ERE; -1 when the
# kernel's dump was interrupted by changes (ip says "Dump was interrupted and may be inconsistent").
vip_count() {
	ip -n "$(ns "$1")" -4 -o addr show 2>&1 | awk -v re="$2" '
		/Dump was interrupted/ { bad = 1 }
		{ split($4, p, "/"); if (p[2] == 32 && p[1] ~ re) n++ }
		END { print bad ? -1 : n + 0 }'
}

# mon_adds HOST FROM_LINE ERE: "EPOCH_SECONDS ADDRESS" (microseconds) for every address added
# to HOST matching ERE in its `ip -ts monitor` file (monitor_start) after its first FROM_LINE
# lines. The stamp is the monitor's wall clock when it read the kernel's message.
mon_adds() {
	local host=$1 from=$2 re=$3 dates=() d map=""
	mapfile -t dates < <(tail -n +$((from + 1)) "$LAB_DIR/$host.mon" | sed -n 's/^\[\([0-9-]*\)T.*/\1/p' | sort -u)
	for d in "${dates[@]}"; do map+="$d=$(date -d "$d" +%s) "; done
	tail -n +$((from + 1)) "$LAB_DIR/$host.mon" | awk -v map="$map" -v re="$re" '
		BEGIN { k = split(map, m, " "); for (i = 1; i <= k; i++) { split(m[i], kv, "="); mid[kv[1]] = kv[2] } }
		/^\[[0-9-]+T[0-9:.]+\] [0-9]+: / && !/ Deleted / {
			a = $0; sub(/.* inet /, "", a); sub(/\/.*/, "", a)
			if (a !~ re) next
			ts = substr($1, 2, length($1) - 2); split(ts, dt, "T"); split(dt[2], hms, ":")
			printf "%.6f %s\n", mid[dt[1]] + hms[1] * 3600 + hms[2] * 60 + hms[3], a
		}'
}
