#!/usr/bin/env bash
# Two vipd (priority 150 and 100, 100 ms adverts): one master, the 150; the VIP only on it;
# its adverts on the wire are well formed (TTL 255, TOS 0xc0, 224.0.0.18, from its address).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init el

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
vip_instance 150 100ms | vipd_conf a
vip_instance 100 100ms | vipd_conf b
capture_start cap
start_vipd a "$LAB_DIR/a.toml"
start_vipd b "$LAB_DIR/b.toml"

wait_until 5 "a (150) to become master" is_state a web master
wait_until 5 "b (100) to be backup" is_state b web backup
wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
always_for 1 "a master with the VIP, b backup without it" roles web "$VIP4" a b
ok "a is master and alone holds $VIP4; b is backup"
m=$(vipd_field b web master_address)
[[ $m == 10.99.0.1 ]] || fail "b reports master_address '$m', expected 10.99.0.1"
ok "b reports master_address 10.99.0.1"

wait_until 5 "20 adverts from a on the wire" cap_at_least 20 "$ADV && ip.src == 10.99.0.1"
capture_stop
n=$(cap_count "$ADV && ip.src == 10.99.0.2")
((n == 0)) || fail "b, a backup from its start, sent $n adverts"
want="10.99.0.1 224.0.0.18 255 0xc0 ${LAB_MAC[a]} 3 1 51 150 10 1 1 $VIP4"
bad=$(cap_fields "$ADV" ip.src ip.dst ip.ttl ip.dsfield eth.src vrrp.version vrrp.type vrrp.virt_rtr_id \
	vrrp.prio vrrp.short_adver_int vrrp.addr_count vrrp.checksum.status vrrp.ip_addr | grep -vxF "$want" | sort | uniq -c || true)
[[ -z $bad ]] || fail "adverts differ from '$want' (src dst ttl tos ethsrc ver type vrid prio int count cksum-ok vip): $bad"
ok "adverts: $want"
gap=$(cap_fields "$ADV && ip.src == 10.99.0.1" frame.time_epoch |
	awk 'NR > 1 {s += $1 - p; n++} {p = $1} END {printf "%d", 1000 * s / n}')
metric advert_interval_ms "$gap"
((gap >= 80 && gap <= 130)) || fail "mean interval between adverts is $gap ms, configured 100 ms"
ok "mean advert interval $gap ms"
pass
