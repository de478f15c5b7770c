#!/usr/bin/env bash
# Interop with FRR's vrrpd (8.4, with zebra, in its own namespace), which requires virtual
# MACs: VRRPv3 at 100 ms, vipd with virtual_mac = true. vipd master and FRR backup, then the
# other way round, failover and preemption both ways; the VIP is only reachable on the
# master, and a client keeps the virtual MAC for it throughout. Skipped (passes with a note)
# when FRR is not installed.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
lab_init fv

if [[ ! -x /usr/lib/frr/vrrpd || ! -x /usr/lib/frr/zebra ]] || ! id frr >/dev/null 2>&1; then
	echo "  skipped: FRR (apt-get install frr) is not installed"
	pass
fi
FRR_IF=vrrp4-2-51 # FRR finds the macvlan by parent and MAC; it does not create it
lab_host a 10.99.0.1/24
lab_host fr 10.99.0.2/24
lab_host c 10.99.0.9/24
FRR_DIR=$LAB_DIR/fr.frr
mkdir -p "$FRR_DIR"
chmod 711 "$LAB_DIR" # the daemons run as user frr
chown frr:frr "$FRR_DIR"

frn=$(ns fr)
nsx fr sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2

# start_frr PRIO: zebra and vrrpd with one IPv4 virtual router, VRID 51.
start_frr() {
	local d=$FRR_DIR common
	printf 'hostname fr\n' >"$d/zebra.conf"
	printf 'interface eth0\n vrrp 51 version 3\n vrrp 51 priority %s\n vrrp 51 advertisement-interval 100\n vrrp 51 ip %s\n!\n' \
		"$1" "$VIP4" >"$d/vrrpd.conf"
	# FRR leaves the macvlan to the operator: made before the daemons, with the VIP on it
	# for good; vrrpd keeps it protodown while backup. A zebra that stopped leaves it
	# protodown with its reason set, so each start gets a fresh one.
	ip -n "$frn" link del "$FRR_IF" 2>/dev/null || true
	ip -n "$frn" link add link eth0 name "$FRR_IF" type macvlan mode bridge
	ip -n "$frn" link set "$FRR_IF" address "$VMAC4"
	nsx fr sysctl -qw "net.ipv4.conf.$FRR_IF.arp_ignore=1"
	ip -n "$frn" addr add "$VIP4/24" dev "$FRR_IF"
	ip -n "$frn" link set "$FRR_IF" up
	# The last zebra's socket file would be taken for the new one's.
	rm -f "$d/zserv.api"
	common=(-z "$d/zserv.api" --vty_socket "$d" -u frr -g frr -P 0 --log stdout)
	LAB_LOGS+=("$d/zebra.log" "$d/vrrpd.log")
	ip netns exec "$frn" /usr/lib/frr/zebra -f "$d/zebra.conf" -i "$d/zebra.pid" "${common[@]}" >>"$d/zebra.log" 2>&1 &
	ZEBRA_PID=$!
	LAB_PIDS+=($!)
	wait_until 5 "zebra's socket" test -S "$d/zserv.api"
	ip netns exec "$frn" /usr/lib/frr/vrrpd -f "$d/vrrpd.conf" -i "$d/vrrpd.pid" "${common[@]}" >>"$d/vrrpd.log" 2>&1 &
	VRRPD_PID=$!
	LAB_PIDS+=($!)
}
stop_frr() {
	lab_kill TERM "$VRRPD_PID"
	wait_until 5 "vrrpd to exit" not alive "$VRRPD_PID"
	lab_kill TERM "$ZEBRA_PID"
	wait_until 5 "zebra to exit" not alive "$ZEBRA_PID"
	wait "$VRRPD_PID" "$ZEBRA_PID" 2>/dev/null || true
}
frr_state() { nsx fr vtysh --vty_socket "$FRR_DIR" -c 'show vrrp 51' 2>/dev/null | awk '/Status \(v4\)/ { print $3 }'; }
is_frr_state() { [[ $(frr_state) == "$1" ]]; }
protodown() { link_of "$1" "$2" | grep -q 'protodown on'; }
vipd_holds() { is_state a web master && has_addr_on a "$VMAC_IF" "$VIP4" && is_frr_state Backup && protodown fr "$FRR_IF"; }
frr_holds() { is_frr_state Master && not protodown fr "$FRR_IF" && not has_addr_on a "$VMAC_IF" "$VIP4"; }
vipd_took_over() { is_state a web master && has_addr_on a "$VMAC_IF" "$VIP4"; }
client_sees_vmac() {
	nsx c ping -n -c 2 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4"
	neigh_is c "$VIP4" "$VMAC4" || fail "c's entry for $VIP4 is $(neigh_mac c "$VIP4"), not $VMAC4"
}

# 1. vipd 150 master, FRR 100 backup.
vip_instance 150 100ms "virtual_mac = true" | vipd_conf a
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "vipd a (150) to become master" is_state a web master
start_frr 100
wait_until 5 "FRR (100) to be backup" is_frr_state Backup
always_for 1.5 "vipd master, FRR backup with its macvlan protodown (does FRR hear vipd's adverts?)" vipd_holds
neigh_watch_start c "$VIP4" frr
client_sees_vmac
ok "vipd master, FRR vrrpd backup (macvlan protodown); c resolves $VIP4 to $VMAC4"

cut_link a
wait_until 5 "FRR to take over" frr_holds
client_sees_vmac
ok "cut vipd: FRR took over; c still reaches $VIP4 at $VMAC4"
restore_link a
wait_until 8 "vipd (150) to take the VIP back" vipd_holds
always_for 1 "vipd master, FRR backup" vipd_holds
client_sees_vmac
ok "restored vipd preempted FRR"
stop_agent a TERM
stop_frr

# 2. FRR 150 master, vipd 100 backup.
vip_instance 100 100ms "virtual_mac = true" | vipd_conf a
start_frr 150
wait_until 5 "FRR (150) to become master" frr_holds
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "vipd a (100) to be backup" is_state a web backup
always_for 1.5 "FRR master, vipd backup (does vipd hear FRR's adverts?)" frr_holds
[[ $(vipd_field a web master_address) == 10.99.0.2 ]] || fail "vipd a reports master $(vipd_field a web master_address)"
client_sees_vmac
ok "FRR vrrpd master, vipd backup (master_address 10.99.0.2)"

cut_link fr
wait_until 5 "vipd to take over" vipd_took_over
client_sees_vmac
ok "cut FRR: vipd took over; c still reaches $VIP4 at $VMAC4"
restore_link fr
wait_until 8 "FRR (150) to take the VIP back" frr_holds
always_for 1 "FRR master, vipd backup" frr_holds
client_sees_vmac
neigh_watch_stop
seen=$(neigh_seen frr)
[[ $seen == "$VMAC4" ]] || fail "c's entry for $VIP4 was $seen across the four handovers"
ok "restored FRR preempted vipd; c's entry for $VIP4 was $VMAC4 throughout"
pass
