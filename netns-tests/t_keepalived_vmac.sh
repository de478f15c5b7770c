#!/usr/bin/env bash
# Interop with keepalived 2.2.7 `use_vmac`, VRRPv3 at 100 ms, both with virtual MACs: vipd
# master and keepalived backup, then the other way round, failover and preemption both ways.
# Each side hears the other's adverts (sent from 00:00:5e:00:01:33), the VIP only ever lives
# on the master's macvlan, and a client keeps the virtual MAC for the VIP while vipd is master.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
lab_init kv

KA_IF=vrrp.51 # keepalived's default macvlan name for VRID 51
lab_host a 10.99.0.1/24
lab_host k 10.99.0.2/24
lab_host c 10.99.0.9/24

ka_vmac_conf() {
	{
		printf 'global_defs {\n  router_id k\n}\n'
		printf 'vrrp_instance web {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n'
		printf '  version 3\n  priority %s\n  advert_int 0.1\n  use_vmac\n' "$1"
		printf '  virtual_ipaddress {\n    %s/24\n  }\n}\n' "$VIP4"
	} >"$LAB_DIR/k.keepalived.conf"
}
vipd_holds() { is_state a web master && has_addr_on a "$VMAC_IF" "$VIP4" && not has_addr_on k "$KA_IF" "$VIP4" && is_keepalived_state k BACKUP; }
vipd_master_k_fault() { is_state a web master && has_addr_on a "$VMAC_IF" "$VIP4" && not has_addr_on k "$KA_IF" "$VIP4"; }
ka_holds() { is_keepalived_state k MASTER && has_addr_on k "$KA_IF" "$VIP4" && not has_addr_on a "$VMAC_IF" "$VIP4" && not is_state a web master; }

# 1. vipd 150 master, keepalived 100 backup.
vip_instance 150 100ms "virtual_mac = true" | vipd_conf a
ka_vmac_conf 100
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "vipd a (150) to become master" is_state a web master
start_keepalived k "$LAB_DIR/k.keepalived.conf"
wait_until 5 "keepalived k (100) to enter BACKUP" is_keepalived_state k BACKUP
always_for 1.5 "vipd a master with $VIP4 on $VMAC_IF, keepalived BACKUP (does k hear a's adverts?)" vipd_holds
nsx c ping -n -c 2 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4"
neigh_is c "$VIP4" "$VMAC4" || fail "c's entry for $VIP4 is $(neigh_mac c "$VIP4"), not $VMAC4"
ok "vipd master (VIP on $VMAC_IF, c resolves $VMAC4), keepalived use_vmac backup"

cut_link a
wait_until 5 "keepalived to take over on $KA_IF" ka_holds
ok "cut vipd: keepalived took $VIP4 on $KA_IF"
restore_link a
wait_until 8 "vipd a (150) to take $VIP4 back" vipd_holds
always_for 1 "vipd a master, keepalived BACKUP" vipd_holds
nsx c ping -n -c 2 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4 after the failback"
neigh_is c "$VIP4" "$VMAC4" || fail "c's entry for $VIP4 is $(neigh_mac c "$VIP4") after the failback"
ok "restored vipd preempted keepalived; c still resolves $VMAC4"
stop_agent a TERM
stop_agent k TERM

# 2. keepalived 150 master, vipd 100 backup.
vip_instance 100 100ms "virtual_mac = true" | vipd_conf a
ka_vmac_conf 150
start_keepalived k "$LAB_DIR/k.keepalived.conf"
wait_until 8 "keepalived k (150) to enter MASTER" is_keepalived_state k MASTER
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "vipd a (100) to be backup" is_state a web backup
always_for 1.5 "keepalived MASTER with $VIP4 on $KA_IF, vipd backup (does a hear k's adverts?)" ka_holds
[[ $(vipd_field a web master_address) == 10.99.0.2 ]] || fail "vipd a reports master $(vipd_field a web master_address)"
ok "keepalived use_vmac master, vipd backup (master_address 10.99.0.2)"

cut_link k
wait_until 5 "vipd a to take over on $VMAC_IF" vipd_master_k_fault
ok "cut keepalived: vipd took $VIP4 on $VMAC_IF"
restore_link k
wait_until 8 "keepalived (150) to take $VIP4 back" ka_holds
always_for 1 "keepalived MASTER, vipd backup" ka_holds
ok "restored keepalived preempted vipd"

bad=$(grep -iE 'invalid|wrong|mismatch|bogus' "$LAB_DIR/k.keepalived.log" || true)
[[ -z $bad ]] || fail "keepalived complained about vipd's packets: $bad"
ok "keepalived logged no invalid/wrong/mismatch/bogus lines"
pass
