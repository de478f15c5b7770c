#!/usr/bin/env bash
# unicast_peers on both hosts while nftables drops all multicast VRRP in and out of both: they
# still elect and fail over, and every advert on the wire is unicast to the peer with TTL 255.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init uc

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
for h in a b; do
	nft_rule "$h" out "ip daddr 224.0.0.18 drop"
	nft_rule "$h" in "ip daddr 224.0.0.18 drop"
done
vip_instance 150 100ms 'unicast_peers = ["10.99.0.2"]' | vipd_conf a
vip_instance 100 100ms 'unicast_peers = ["10.99.0.1"]' | vipd_conf b
capture_start cap
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master (unicast)" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup (unicast)" is_state b web backup
always_for 1 "a master alone with $VIP4, b backup (unicast)" roles web "$VIP4" a b
ok "unicast: a master with $VIP4, b backup"

wait_until 5 "10 adverts from a" cap_at_least 10 "$ADV && ip.src == 10.99.0.1"
want="10.99.0.1 10.99.0.2 255 150 1"
bad=$(cap_fields "$ADV" ip.src ip.dst ip.ttl vrrp.prio vrrp.checksum.status | grep -vxF "$want" | sort | uniq -c || true)
[[ -z $bad ]] || fail "adverts differ from '$want' (src dst ttl prio cksum-ok): $bad"
ok "adverts: $want (no multicast VRRP on the wire)"

monitor_start b
takeover_after_cut a b "$VIP4" 5 failover_ms_unicast
ms=$TAKEOVER_MS
bound=$(takeover_bound_ms 100 100)
((ms < bound)) || fail "unicast failover took $ms ms (bound $bound ms)"
wait_until 3 "b to report master" is_state b web master
wait_until 3 "a to drop $VIP4" not has_addr a "$VIP4"
wait_until 3 "an advert from b to a" cap_at_least 1 "$ADV && ip.src == 10.99.0.2 && ip.dst == 10.99.0.1 && ip.ttl == 255"
capture_stop
n=$(cap_count "$ADV && ip.dst == 224.0.0.18")
((n == 0)) || fail "$n multicast adverts on the wire"
ok "unicast: b took over $ms ms after the cut (bound $bound ms) and advertises to 10.99.0.1"
pass
