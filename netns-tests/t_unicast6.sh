#!/usr/bin/env bash
# unicast_peers over IPv6: peers are listed by their link-local addresses (the address IPv6
# adverts come from). With all multicast VRRP dropped by nftables on both hosts they still
# elect and fail over, and every advert on the wire goes link-local to link-local, hop limit
# 255, with a checksum over the unicast pseudo-header.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init u6

lab_host a 10.99.0.1/24 fd00:99::1/64
lab_host b 10.99.0.2/24 fd00:99::2/64
ll_a=$(lladdr a) ll_b=$(lladdr b)
[[ -n $ll_a && -n $ll_b ]] || fail "no link-local addresses on the hosts"
for h in a b; do
	nft_rule "$h" out "ip6 daddr ff02::12 drop"
	nft_rule "$h" in "ip6 daddr ff02::12 drop"
done
conf6() { # conf6 PRIO PEER
	printf '[[instance]]\nname = "web6"\ninterface = "eth0"\nvrid = 53\npriority = %s\n' "$1"
	printf 'advert_interval = "100ms"\nvirtual_addresses = ["%s/64"]\nunicast_peers = ["%s"]\n' "$VIP6" "$2"
}
conf6 150 "$ll_b" | vipd_conf a
conf6 100 "$ll_a" | vipd_conf b
capture_start cap
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master (IPv6 unicast)" is_state a web6 master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup (IPv6 unicast)" is_state b web6 backup
always_for 1 "a master alone with $VIP6, b backup" roles web6 "$VIP6" a b
[[ $(vipd_field b web6 master_address) == "$ll_a" ]] || fail "b does not report a's link-local $ll_a as master"
ok "IPv6 unicast: a master with $VIP6, b backup, b sees master $ll_a"

wait_until 5 "10 adverts from a" cap_at_least 10 "$ADV && ipv6.src == $ll_a"
want="$ll_a $ll_b 255 150 1"
bad=$(cap_fields "$ADV" ipv6.src ipv6.dst ipv6.hlim vrrp.prio vrrp.checksum.status | grep -vxF "$want" | sort | uniq -c || true)
[[ -z $bad ]] || fail "adverts differ from '$want' (src dst hlim prio cksum-ok): $bad"
drops=$(vipd_status b | jq '[.receive[].drops[]] | add')
((drops == 0)) || fail "b dropped $drops adverts: $(vipd_status b | jq -c '.receive')"
ok "adverts: $want, none dropped by b"

monitor_start b
takeover_after_cut a b "$VIP6" 5 failover_ms_unicast6
ms=$TAKEOVER_MS
bound=$(takeover_bound_ms 100 100)
((ms < bound)) || fail "IPv6 unicast failover took $ms ms (bound $bound ms)"
wait_until 3 "b to report master" is_state b web6 master
wait_until 3 "an advert from b to a's link-local" cap_at_least 1 "$ADV && ipv6.src == $ll_b && ipv6.dst == $ll_a && ipv6.hlim == 255"
capture_stop
n=$(cap_count "$ADV && ipv6.dst == ff02::12")
((n == 0)) || fail "$n multicast adverts on the wire"
ok "IPv6 unicast: b took over $ms ms after the cut (bound $bound ms) and advertises to $ll_a"
pass
