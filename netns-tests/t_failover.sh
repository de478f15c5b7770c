#!/usr/bin/env bash
# Cut the master's link: the backup takes the VIP (gratuitous ARP on the wire), the old master
# goes to FAULT and drops it. Failover time = link cut -> the VIP's address-add event in the
# backup's namespace, at 100 ms and at 10 ms adverts.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init fo

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24

# failover_round INTERVAL_MS: one full round; leaves no agent running and a's link up.
failover_round() {
	local int=$1 t0 ms bound n
	vip_instance 150 "${int}ms" | vipd_conf a
	vip_instance 100 "${int}ms" | vipd_conf b
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "a (150) to become master at ${int}ms" is_state a web master
	start_vipd b "$LAB_DIR/b.toml"
	wait_until 5 "b (100) to be backup at ${int}ms" is_state b web backup
	wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
	ok "${int}ms: a master with $VIP4, b backup"

	monitor_start b
	capture_start "cap$int"
	takeover_after_cut a b "$VIP4" 5 "failover_ms_$int"
	ms=$TAKEOVER_MS
	bound=$(takeover_bound_ms 100 "$int")
	((ms < bound)) || fail "failover at ${int}ms adverts took $ms ms (bound $bound ms)"
	ok "${int}ms: b added $VIP4 $ms ms after the cut (bound $bound ms)"

	wait_until 3 "b to report master" is_state b web master
	wait_until 3 "a (carrier gone) to report fault" is_state a web fault
	wait_until 3 "a to drop $VIP4" not has_addr a "$VIP4"
	grep -q "instance=web from=backup to=master" "$LAB_DIR/b.vipd.log" || fail "b logged no 'instance=web from=backup to=master'"
	grep -q "instance=web from=master to=fault" "$LAB_DIR/a.vipd.log" || fail "a logged no 'instance=web from=master to=fault'"
	ok "${int}ms: a is fault without the VIP; both logged the state change"

	wait_until 3 "a gratuitous ARP for $VIP4 from b" cap_at_least 1 \
		"arp.opcode == 1 && arp.src.proto_ipv4 == $VIP4 && arp.dst.proto_ipv4 == $VIP4 && eth.src == ${LAB_MAC[b]}"
	capture_stop
	n=$(cap_count "arp.opcode == 1 && arp.src.proto_ipv4 == $VIP4 && arp.dst.proto_ipv4 == $VIP4 && eth.src == ${LAB_MAC[b]} && eth.dst == ff:ff:ff:ff:ff:ff && arp.src.hw_mac == ${LAB_MAC[b]}")
	((n >= 1)) || fail "b's gratuitous ARP is not a broadcast request with sender MAC ${LAB_MAC[b]}"
	ok "${int}ms: b sent $n gratuitous ARP request(s) for $VIP4"

	stop_agent a TERM
	stop_agent b TERM
	restore_link a
}

failover_round 100
failover_round 10
pass
