# shellcheck shell=bash
# netns-tests/interop.sh: vipd (host a, 10.99.0.1) against keepalived 2.2.7 (host k, 10.99.0.2),
# sourced by t_keepalived_v*.sh after lib.sh.

# interop VERSION VIPD_INTERVAL KEEPALIVED_ADVERT_INT INTERVAL_MS [AUTH_PASS]
interop() {
	local ver=$1 vint=$2 kint=$3 int_ms=$4 auth=${5:-} extra=() settle t0 ev
	lab_host a 10.99.0.1/24
	lab_host k 10.99.0.2/24
	extra=("version = $ver")
	[[ -z $auth ]] || extra+=("auth_pass = \"$auth\"")
	settle=$(((3 * int_ms + 999) / 1000 + 1)) # whole seconds > one master-down interval
	monitor_start a
	monitor_start k
	capture_start cap

	# 1. vipd 150 master, keepalived 100 backup.
	vip_instance 150 "$vint" "${extra[@]}" | vipd_conf a
	keepalived_conf k "$ver" 100 "$kint" "$auth"
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 8 "vipd a (150) to become master" is_state a web master
	start_keepalived k "$LAB_DIR/k.keepalived.conf"
	wait_until 5 "keepalived k (100) to enter BACKUP" is_keepalived_state k BACKUP
	always_for "$settle" "vipd a master alone with $VIP4, keepalived k BACKUP (does k accept a's adverts?)" vipd_a_master
	ok "v$ver: vipd master, keepalived backup for ${settle}s"

	takeover_after_cut a k "$VIP4" 8 "failover_ms_vipd_to_keepalived"
	wait_until 3 "keepalived MASTER, vipd a fault without $VIP4" ka_master_a_fault
	ok "v$ver: cut vipd -> keepalived took over in $TAKEOVER_MS ms"

	restore_link a
	wait_until 8 "vipd a (150) to take $VIP4 back from keepalived" vipd_a_master
	always_for 1 "vipd a master alone with $VIP4, keepalived k BACKUP" vipd_a_master
	ok "v$ver: restored vipd preempted keepalived"
	stop_agent a TERM
	stop_agent k TERM

	# 2. keepalived 150 master, vipd 100 backup.
	vip_instance 100 "$vint" "${extra[@]}" | vipd_conf a
	keepalived_conf k "$ver" 150 "$kint" "$auth"
	start_keepalived k "$LAB_DIR/k.keepalived.conf"
	wait_until 8 "keepalived k (150) to enter MASTER" is_keepalived_state k MASTER
	start_vipd a "$LAB_DIR/a.toml"
	wait_until 5 "vipd a (100) to be backup" is_state a web backup
	always_for "$settle" "keepalived k MASTER alone with $VIP4, vipd a backup (does a accept k's adverts?)" ka_k_master
	[[ $(vipd_field a web master_address) == 10.99.0.2 ]] ||
		fail "vipd a reports master_address '$(vipd_field a web master_address)', expected 10.99.0.2"
	ok "v$ver: keepalived master, vipd backup for ${settle}s (master_address 10.99.0.2)"

	takeover_after_cut k a "$VIP4" 8 "failover_ms_keepalived_to_vipd"
	wait_until 3 "vipd a master alone with $VIP4 (keepalived FAULT)" a_master_ka_fault
	ok "v$ver: cut keepalived -> vipd took over in $TAKEOVER_MS ms"

	restore_link k
	wait_until 8 "keepalived k (150) to take $VIP4 back from vipd" ka_k_master
	always_for 1 "keepalived k MASTER alone with $VIP4, vipd a backup" ka_k_master
	ok "v$ver: restored keepalived preempted vipd"
	capture_stop

	local bad
	bad=$(grep -iE 'invalid|wrong|mismatch|bogus' "$LAB_DIR/k.keepalived.log" || true)
	[[ -z $bad ]] || fail "keepalived complained about vipd's packets: $bad"
	ok "keepalived logged no invalid/wrong/mismatch/bogus lines"
}

vipd_a_master() { is_state a web master && is_keepalived_state k BACKUP && only_holder "$VIP4" a a k; }
ka_k_master() { is_keepalived_state k MASTER && is_state a web backup && only_holder "$VIP4" k a k; }
ka_master_a_fault() { is_keepalived_state k MASTER && is_state a web fault && only_holder "$VIP4" k a k; }
a_master_ka_fault() { is_state a web master && is_keepalived_state k FAULT && only_holder "$VIP4" a a k; }
