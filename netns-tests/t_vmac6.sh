#!/usr/bin/env bash
# virtual_mac = true over IPv6 (VRID 52): the VIP lives on macvlan vipd6.52
# (00:00:5e:00:02:34), which has no link-local of its own; adverts leave from the parent's
# link-local with the virtual MAC as Ethernet source; the unsolicited NA carries the virtual
# MAC; a client keeps the virtual MAC for the VIP across a failover.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
lab_init vx

VMAC6=00:00:5e:00:02:34
VMAC6_IF=vipd6.52
lab_host a 10.99.0.1/24 fd00:99::1/64
lab_host b 10.99.0.2/24 fd00:99::2/64
lab_host c 10.99.0.9/24 fd00:99::9/64
ll_a=$(lladdr a)
for h in a b; do
	prio=150
	[[ $h == b ]] && prio=100
	vipd_conf "$h" <<EOT
[[instance]]
name = "web6"
interface = "eth0"
vrid = 52
priority = $prio
advert_interval = "100ms"
virtual_addresses = ["$VIP6/64"]
virtual_mac = true
EOT
done
holds6() { is_state "$1" web6 master && link_up "$1" "$VMAC6_IF" && has_addr_on "$1" "$VMAC6_IF" "$VIP6" && not has_addr "$1" "$VIP6"; }

capture_start cap
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master" is_state a web6 master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup" is_state b web6 backup
wait_until 3 "$VIP6 on a's $VMAC6_IF" holds6 a
link_of a "$VMAC6_IF" | grep -q "link/ether $VMAC6 " || fail "a's $VMAC6_IF: $(link_of a "$VMAC6_IF")"
lls=$(ip -n "$(ns a)" -6 -o addr show dev "$VMAC6_IF" scope link)
[[ -z $lls ]] || fail "a's $VMAC6_IF has a link-local: $lls"
not link_up b "$VMAC6_IF" || fail "backup b's $VMAC6_IF is up"
ok "a master with $VIP6 on $VMAC6_IF ($VMAC6, no link-local); b's is down"

nsx c ping -6 -n -c 2 -i 0.1 -W 1 "$VIP6" >/dev/null || fail "c cannot ping $VIP6"
neigh_is c "$VIP6" "$VMAC6" || fail "c's entry for $VIP6 is '$(neigh_mac c "$VIP6")', not $VMAC6"
wait_until 3 "adverts from a's link-local with the virtual MAC" cap_at_least 3 "$ADV && ipv6.src == $ll_a && eth.src == $VMAC6 && ipv6.hlim == 255"
wait_until 3 "an unsolicited NA for $VIP6 from $VMAC6" cap_at_least 1 \
	"icmpv6.type == 136 && icmpv6.nd.na.target_address == $VIP6 && eth.src == $VMAC6 && icmpv6.opt.linkaddr == $VMAC6"
# Nothing but adverts leaves the virtual MAC from a link-local: no ND, MLD or router
# solicitation that would tie a link-local to it.
other="ipv6 && eth.src == $VMAC6 && ipv6.src == fe80::/10 && !vrrp"
n=$(cap_count "$other")
((n == 0)) || fail "$n packets from a link-local left $VMAC6: $(cap_fields "$other" ipv6.src ipv6.dst icmpv6.type | sort | uniq -c)"
ok "c resolves $VIP6 to $VMAC6; adverts (from $ll_a) and the NA come from $VMAC6"

neigh_watch_start c "$VIP6" fo
ping_start c "$VIP6" v6
sleep 1.2
cut_ms=$(now_ms)
cut_link a
wait_until 5 "b to hold $VIP6 on its $VMAC6_IF" holds6 b
wait_until 5 "c to get answers again" ping_answers_since v6 "$cut_ms"
sleep 0.3
ping_stop
neigh_watch_stop
outage=$(ping_max_gap_ms v6 "$cut_ms")
metric vmac6_outage_ms "$outage"
bound=$(takeover_bound_ms 100 100)
((outage < bound)) || fail "c went $outage ms without a reply (bound $bound ms)"
seen=$(neigh_seen fo)
[[ $seen == "$VMAC6" ]] || fail "c's entry for $VIP6 was $seen during the failover"
ok "cut a: b took over, c answered again after $outage ms, its entry stayed $VMAC6"
capture_stop
stop_agent a TERM
stop_agent b TERM
not has_link b "$VMAC6_IF" || fail "b's $VMAC6_IF outlived the agent"
pass
