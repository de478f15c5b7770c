#!/usr/bin/env bash
# A sync group over two LANs. a and b each have an outside (eth0, br0) and an inside (eth1,
# br1) interface; instances "outside" and "inside" form one group on each. a (150) is master
# of both. When only a's inside link fails, a's inside goes to FAULT, which takes a's outside
# to FAULT too (with the group as its cause): b holds both VIPs. When it comes back, a
# preempts both.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sy

VIPO=10.99.0.50
VIPI=10.98.0.50
lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_link a eth1 br1 10.98.0.1/24
lab_link b eth1 br1 10.98.0.2/24
group_conf() { # PRIO
	cat <<TOML
[[instance]]
name = "outside"
interface = "eth0"
vrid = 61
priority = $1
advert_interval = "100ms"
virtual_addresses = ["$VIPO/24"]

[[instance]]
name = "inside"
interface = "eth1"
vrid = 62
priority = $1
advert_interval = "100ms"
virtual_addresses = ["$VIPI/24"]

[[sync_group]]
name = "edge"
instances = ["outside", "inside"]
TOML
}
group_conf 150 | vipd_conf a
group_conf 100 | vipd_conf b
on() { ip -n "$(ns "$1")" -o addr show dev "$2" | grep -q " $3/"; } # on HOST IFACE ADDR
both_on() { is_state "$1" outside master && is_state "$1" inside master && on "$1" eth0 "$VIPO" && on "$1" eth1 "$VIPI"; }
none_on() { ! on "$1" eth0 "$VIPO" && ! on "$1" eth1 "$VIPI"; }
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to master both" both_on a
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b to back up both" is_state b inside backup
is_state b outside backup || fail "b's outside is $(vipd_state b outside)"
ok "a master of outside and inside, b backup of both"

t0=$(now_ms)
ip -n "$(ns sw)" link set vaeth1 down
wait_until 3 "b to hold both VIPs after a's inside link failed" both_on b
metric group_takeover_ms $(($(now_ms) - t0))
wait_until 2 "a to release both" none_on a
is_state a inside fault || fail "a's inside is $(vipd_state a inside), not fault"
is_state a outside fault || fail "a's outside is $(vipd_state a outside), not fault"
[[ $(vipd_field a outside fault_causes) == '["sync_group:edge"]' ]] || fail "a's outside fault causes: $(vipd_field a outside fault_causes)"
[[ $(vipd_status a | jq -r '.sync_groups[0].state') == fault ]] || fail "a's group is not reported in fault"
ok "a's inside link down: a faulted both (outside for the group), b holds both"

ip -n "$(ns sw)" link set vaeth1 up
wait_until 5 "a to preempt both once its inside link is back" both_on a
wait_until 2 "b to release both" none_on b
ok "inside link back: a master of both again"
pass
