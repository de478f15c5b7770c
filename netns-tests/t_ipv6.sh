#!/usr/bin/env bash
# VRRPv3 over IPv6 (VIP fd00:99::50/64): election, adverts from the link-local to ff02::12 with
# hop limit 255, the VIP usable at once (not tentative: installed NODAD), an unsolicited NA on
# each takeover, failover on a link cut.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init v6

lab_host a 10.99.0.1/24 fd00:99::1/64
lab_host b 10.99.0.2/24 fd00:99::2/64
# lab_host turned DAD off so that the link-locals are usable at once; turn it back on so that a
# VIP installed without IFA_F_NODAD would show up as "tentative" and fail this test.
for h in a b; do nsx "$h" sysctl -qw net.ipv6.conf.eth0.accept_dad=1; done
ll_a=$(lladdr a) ll_b=$(lladdr b)
for h in a b; do
	prio=150
	[[ $h == b ]] && prio=100
	vipd_conf "$h" <<EOT
[[instance]]
name = "web6"
interface = "eth0"
vrid = 52
version = 3
priority = $prio
advert_interval = "100ms"
virtual_addresses = ["$VIP6/64"]
EOT
done

# check_na HOST: HOST announced VIP6 with a well-formed unsolicited NA.
check_na() {
	local h=$1 mac=${LAB_MAC[$1]} f
	f=$(cap_fields "icmpv6.type == 136 && icmpv6.nd.na.target_address == $VIP6 && eth.src == $mac" \
		ipv6.dst ipv6.hlim icmpv6.nd.na.flag.s icmpv6.nd.na.flag.o icmpv6.opt.linkaddr | sort -u)
	[[ -n $f ]] || fail "no unsolicited NA for $VIP6 from $h ($mac)"
	[[ $f == "ff02::1 255 0 1 $mac" ]] ||
		fail "NA from $h should go to ff02::1, hop limit 255, S=0, O=1, TLLA $mac; got: $f"
	ok "$h sent unsolicited NA for $VIP6 (ff02::1, hop limit 255, S=0, O=1, TLLA $mac)"
}
# not_tentative HOST: VIP6's first add event and its current address line carry no DAD state.
not_tentative() {
	local line
	line=$(grep -E "eth0 +inet6 $VIP6/" "$LAB_DIR/$1.mon" | grep -v Deleted | head -n 1)
	[[ -n $line && $line != *tentative* ]] || fail "$VIP6 was added tentative on $1 (no NODAD?): $line"
	line=$(addr_line "$1" "$VIP6")
	[[ $line != *tentative* && $line != *dadfailed* ]] || fail "$VIP6 on $1 is not usable: $line"
}

monitor_start a
monitor_start b
capture_start cap
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master of web6" is_state a web6 master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup of web6" is_state b web6 backup
wait_until 3 "$VIP6 on a only" roles web6 "$VIP6" a b
not_tentative a
ok "a master with $VIP6 (not tentative), b backup"

wait_until 5 "10 adverts from a's link-local" cap_at_least 10 "$ADV && ipv6.src == $ll_a"
wait_until 3 "an unsolicited NA from a" cap_at_least 1 "icmpv6.type == 136 && eth.src == ${LAB_MAC[a]}"
check_na a
want="$ll_a ff02::12 255 3 52 150 10 1 $VIP6"
bad=$(cap_fields "$ADV" ipv6.src ipv6.dst ipv6.hlim vrrp.version vrrp.virt_rtr_id vrrp.prio \
	vrrp.short_adver_int vrrp.checksum.status vrrp.ipv6_addr | grep -vxF "$want" | sort | uniq -c || true)
[[ -z $bad ]] || fail "IPv6 adverts differ from '$want' (src dst hlim ver vrid prio int cksum-ok vip): $bad"
ok "adverts: $want"

takeover_after_cut a b "$VIP6" 5 failover_ms_v6
ms=$TAKEOVER_MS
bound=$(takeover_bound_ms 100 100)
((ms < bound)) || fail "IPv6 failover took $ms ms (bound $bound ms)"
wait_until 3 "b to report master of web6" is_state b web6 master
wait_until 3 "a to drop $VIP6" not has_addr a "$VIP6"
not_tentative b
wait_until 3 "an unsolicited NA from b" cap_at_least 1 "icmpv6.type == 136 && eth.src == ${LAB_MAC[b]}"
wait_until 3 "an advert from b's link-local" cap_at_least 1 "$ADV && ipv6.src == $ll_b && ipv6.hlim == 255"
capture_stop
check_na b
ok "b took $VIP6 $ms ms after the cut (bound $bound ms), not tentative; a dropped it"
pass
