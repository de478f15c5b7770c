#!/usr/bin/env bash
# Interface lifecycle and signals on one host: an instance whose interface does not exist yet
# starts in fault and becomes master when the interface appears; SIGHUP does not stop the
# agent; a VIP deleted under a master is added again; losing the primary address is a fault
# that releases the VIP, getting it back rejoins the election; deleting the interface is a
# fault again.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init lc

lab_host a 10.99.0.1/24
VIP=10.99.0.77
printf '[[instance]]\nname = "late"\ninterface = "eth5"\nvrid = 9\npriority = 200\nadvert_interval = "50ms"\nvirtual_addresses = ["%s/24"]\n' "$VIP" | vipd_conf a
start_vipd a "$LAB_DIR/a.toml"
wait_until 3 "instance on the missing eth5 to be in fault" is_state a late fault
grep -q 'interface does not exist' "$LAB_DIR/a.vipd.log" || fail "no log line saying eth5 does not exist"
ok "missing interface: fault"

eth5_has() { ip -n "$(ns a)" -o addr show dev eth5 2>/dev/null | grep -q " $1/"; }
ip -n "$(ns sw)" link add va5 type veth peer name eth5 netns "$(ns a)"
ip -n "$(ns sw)" link set va5 master br0 up
ip -n "$(ns a)" addr add 10.99.0.11/24 dev eth5
ip -n "$(ns a)" link set eth5 up
wait_until 5 "instance to become master once eth5 exists" is_state a late master
wait_until 2 "$VIP on eth5" eth5_has "$VIP"
[[ $(vipd_field a late master_address) == 10.99.0.11 ]] || fail "master_address is not eth5's primary 10.99.0.11"
ok "eth5 appeared: master with $VIP from 10.99.0.11"

lab_kill HUP "${LAB_PID_OF[a]}"
wait_until 3 "the SIGHUP warning in the log" grep -q 'SIGHUP' "$LAB_DIR/a.vipd.log"
alive "${LAB_PID_OF[a]}" || fail "vipd died on SIGHUP"
is_state a late master || fail "instance left master after SIGHUP"
ok "SIGHUP: warned, still running and master"

ip -n "$(ns a)" addr del "$VIP/24" dev eth5
wait_until 3 "the master to add $VIP again after it was deleted under it" eth5_has "$VIP"
grep -q 'disappeared from the interface while master' "$LAB_DIR/a.vipd.log" || fail "no warning about the vanished address"
is_state a late master || fail "instance left master when its VIP was deleted"
ok "VIP deleted under the master: added again, still master"

[[ $(nsx a sysctl -n net.ipv4.conf.eth5.promote_secondaries) == 1 ]] || fail "promote_secondaries not enabled on eth5"
ok "promote_secondaries enabled on eth5"

ip -n "$(ns a)" addr del 10.99.0.11/24 dev eth5
wait_until 3 "instance to go to fault without a primary address" is_state a late fault
wait_until 2 "$VIP to be gone from eth5" not eth5_has "$VIP"
ok "primary address removed: fault, $VIP released"

ip -n "$(ns a)" addr add 10.99.0.11/24 dev eth5
wait_until 5 "instance to be master again with its address back" is_state a late master
wait_until 2 "$VIP back on eth5" eth5_has "$VIP"
ok "primary address back: master again"

ip -n "$(ns a)" link del eth5
wait_until 3 "instance to go to fault when eth5 is deleted" is_state a late fault
grep -q 'from=master to=fault reason=interface_down' "$LAB_DIR/a.vipd.log" || fail "no state-change log line for the fault"
alive "${LAB_PID_OF[a]}" || fail "vipd died when its interface was deleted"
ok "interface deleted: fault, agent running"
pass
