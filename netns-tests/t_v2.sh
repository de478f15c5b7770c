#!/usr/bin/env bash
# VRRPv2 with a simple password between two vipd (1 s adverts): election, failover, and the
# adverts carry auth type 1 with the password.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init v2

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
vip_instance 150 1s 'version = 2' 'auth_pass = "s3cret"' | vipd_conf a
vip_instance 100 1s 'version = 2' 'auth_pass = "s3cret"' | vipd_conf b
capture_start cap
start_vipd a "$LAB_DIR/a.toml"
wait_until 8 "a (150) to become master (v2)" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup (v2)" is_state b web backup
wait_until 3 "$VIP4 on a only" roles web "$VIP4" a b
ok "v2: a master with $VIP4, b backup"

wait_until 5 "3 v2 adverts from a" cap_at_least 3 "$ADV && ip.src == 10.99.0.1"
want="224.0.0.18 255 2 1 51 150 1 1 1 s3cret $VIP4"
bad=$(cap_fields "$ADV && ip.src == 10.99.0.1" ip.dst ip.ttl vrrp.version vrrp.type vrrp.virt_rtr_id vrrp.prio \
	vrrp.adver_int vrrp.auth_type vrrp.checksum.status vrrp.auth_string vrrp.ip_addr | grep -vxF "$want" | sort | uniq -c || true)
[[ -z $bad ]] || fail "v2 adverts differ from '$want' (dst ttl ver type vrid prio int authtype cksum-ok pass vip): $bad"
ok "v2 adverts: $want"

monitor_start b
takeover_after_cut a b "$VIP4" 8 failover_ms_v2
ms=$TAKEOVER_MS
bound=$((3000 + (256 - 100) * 1000 / 256 + 500))
((ms < bound)) || fail "v2 failover took $ms ms (bound $bound ms)"
wait_until 3 "b to report master" is_state b web master
wait_until 3 "a to drop $VIP4" not has_addr a "$VIP4"
capture_stop
ok "v2: b took over $ms ms after the cut (bound $bound ms); a dropped the VIP"
pass
