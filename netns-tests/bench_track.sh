#!/usr/bin/env bash
# Benchmark (not a test: run.sh does not pick it up). Health tracking, vipd next to keepalived
# 2.2.7 in the same lab and run:
# 1. from a check starting to fail (the health file removed) to the backup adding the VIP:
#    vipd checks every 100 ms, keepalived every 1 s (its smallest interval); both fall 2,
#    weight -60, VRRPv3 at 100 ms adverts. ROUNDS rounds each; min / median / max.
# 2. the CPU cost of 10 script checks (/usr/bin/true) at 100 ms for SECONDS: the agent's
#    own CPU and its reaped children's, as a share of one core.
#   sudo netns-tests/bench_track.sh [ROUNDS] [SECONDS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
SECONDS_CPU=${2:-10}
lab_init bt

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
HEALTH="$LAB_DIR/healthy"


# rounds WHO: remove the health file, time b's VIP add, restore, wait for a to hold it again.
rounds() {
	local who=$1 r t0
	for r in $(seq "$ROUNDS"); do
		wait_until 10 "$who a to hold $VIP4" only_holder "$VIP4" a a b
		sleep 1.5 # past the neighbour locktime and a full check cycle: a quiet start
		t0=$(now_ms)
		rm -f "$HEALTH"
		wait_until 10 "$who b to add $VIP4" has_addr_event b "$VIP4" add "$t0"
		echo $(($(addr_event_ms b "$VIP4" add "$t0") - t0))
		touch "$HEALTH"
	done
}

touch "$HEALTH"
monitor_start b
{
	printf '[[track_script]]\nname = "app"\ncommand = ["/usr/bin/test", "-e", "%s"]\n' "$HEALTH"
	printf 'interval = "100ms"\nfall = 2\nrise = 2\n\n'
	vip_instance 150 100ms 'track = [{ script = "app", weight = -60 }]'
} | vipd_conf a
vip_instance 100 100ms | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
vipd_ms=$(rounds vipd | stats_ms)
stop_agent a
stop_agent b

ka_conf() { # HOST PRIO TRACKED
	{
		printf 'global_defs {\n  router_id %s\n  enable_script_security\n  script_user root\n}\n' "$1"
		if [[ $3 == yes ]]; then
			printf 'vrrp_script app {\n  script "/usr/bin/test -e %s"\n  interval 1\n  fall 2\n  rise 2\n  weight -60\n}\n' "$HEALTH"
		fi
		printf 'vrrp_instance web {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n'
		printf '  version 3\n  priority %s\n  advert_int 0.1\n' "$2"
		[[ $3 == yes ]] && printf '  track_script {\n    app\n  }\n'
		printf '  virtual_ipaddress {\n    %s/24\n  }\n}\n' "$VIP4"
	} >"$LAB_DIR/$1.keepalived.conf"
}
ka_conf a 150 yes
ka_conf b 100 no
start_keepalived a "$LAB_DIR/a.keepalived.conf"
wait_until 5 "keepalived a master" is_keepalived_state a MASTER
start_keepalived b "$LAB_DIR/b.keepalived.conf"
keepalived_ms=$(rounds keepalived | stats_ms)
lab_kill TERM "${LAB_PID_OF[a]}"
lab_kill TERM "${LAB_PID_OF[b]}"

# CPU of 10 checks at 100 ms.
{
	for n in $(seq 10); do
		printf '[[track_script]]\nname = "c%s"\ncommand = ["/usr/bin/true"]\ninterval = "100ms"\n\n' "$n"
	done
	track='track = ['
	for n in $(seq 10); do track+="{ script = \"c$n\", weight = -1 },"; done
	vip_instance 150 100ms "${track%,}]"
} | sed 's/name = "web"/name = "cpu"/' | vipd_conf a
start_vipd a "$LAB_DIR/a.toml"
pid=${LAB_PID_OF[a]}
sleep 1
read -ra f0 <<<"$(awk '{sub(/.*\) /, ""); print}' "/proc/$pid/stat")"
sleep "$SECONDS_CPU"
read -ra f1 <<<"$(awk '{sub(/.*\) /, ""); print}' "/proc/$pid/stat")"
hz=$(getconf CLK_TCK)
own=$(((f1[11] + f1[12]) - (f0[11] + f0[12])))
kids=$(((f1[13] + f1[14]) - (f0[13] + f0[14])))
echo "check_fail_to_vip vipd (100 ms checks): $vipd_ms"
echo "check_fail_to_vip keepalived (1 s checks): $keepalived_ms"
awk -v own="$own" -v kids="$kids" -v hz="$hz" -v s="$SECONDS_CPU" 'BEGIN {
	printf "cpu: 10 checks at 100 ms for %d s: vipd itself %.2f %% of a core, the checks (reaped children) %.2f %%\n",
		s, 100 * own / hz / s, 100 * kids / hz / s
}'
pass
