#!/usr/bin/env bash
# Four instances on one interface whose VIPs share a /24 (10.99.1.0/24) other than the
# interface's own subnet: the first one the kernel installs becomes that subnet's primary
# address, the others its secondaries, and with net.ipv4.conf.*.promote_secondaries = 0 (the
# kernel default, and what a namespace or a host without systemd's sysctl defaults has)
# deleting the primary deletes the secondaries with it. a is master of all four; b then takes
# over only the VRID whose VIP is a's primary. a must go on holding the other three VIPs
# (it is still their master): every VIP on exactly one host, its master.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init cs

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
# inst_conf PRIO_FOR_VRID VRID OTHERS_PRIO
inst_conf() {
	local v
	for v in 1 2 3 4; do
		printf '[[instance]]\nname = "v%d"\ninterface = "eth0"\nvrid = %d\npriority = %d\n' "$v" "$v" $((v == $2 ? $1 : $3))
		printf 'advert_interval = "100ms"\nvirtual_addresses = ["10.99.1.%d/24"]\n\n' "$v"
	done
}
inst_conf 100 0 100 | vipd_conf a
start_vipd a "$LAB_DIR/a.toml"
all_master_a() { local v; for v in 1 2 3 4; do is_state a "v$v" master && has_addr a "10.99.1.$v" || return 1; done; }
wait_until 5 "a to be master of v1-v4 holding 10.99.1.1-4" all_master_a
nsx a sysctl -n net.ipv4.conf.eth0.promote_secondaries | grep -qx 0 || echo "  note: promote_secondaries is not 0 on a's eth0"
primary=$(ip -n "$(ns a)" -4 -o addr show dev eth0 | awk '$4 ~ /^10\.99\.1\./ && !/secondary/ { split($4, p, "/"); split(p[1], o, "."); print o[4]; exit }')
[[ -n $primary ]] || fail "no primary address in 10.99.1.0/24 on a: $(ip -n "$(ns a)" -4 -o addr show dev eth0)"
ok "a master of v1-v4; 10.99.1.$primary is the kernel's primary in 10.99.1.0/24, the other three secondaries"

inst_conf 150 "$primary" 50 | vipd_conf b
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (150) to take over v$primary" roles "v$primary" "10.99.1.$primary" b a
ok "b master of v$primary with 10.99.1.$primary; a removed it"
others_on_a() {
	local v
	for v in 1 2 3 4; do
		((v == primary)) && continue
		roles "v$v" "10.99.1.$v" a b || return 1
	done
}
a_addrs() { ip -n "$(ns a)" -4 -o addr show dev eth0 | awk '{print $4}' | paste -sd' '; }
deadline=$(($(now_ms) + 2000))
until others_on_a; do
	(($(now_ms) < deadline)) || fail "2 s after b took v$primary, a (states: $(vipd_status a | jq -r '[.instances[] | "\(.name)=\(.state)"] | join(" ")')) holds only: $(a_addrs)"
	sleep 0.02
done
always_for 2 "each VIP on its master only" others_on_a
ok "a kept the three VIPs it is master of when the subnet's primary went"
pass
