#!/usr/bin/env bash
# Renaming the master's interface while it is up takes it away from the instance: the agent
# releases properly (priority 0 from the renamed interface, the VIP removed from it) within
# one advert interval, and the backup takes over in about its skew time. Renaming it back
# lets the agent rejoin and, with the higher priority, preempt.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init rn

pair_up 100ms
monitor_start b
vip_on_a() { ip -n "$(ns a)" -o addr show | grep -q " $VIP4/"; }
t0=$(now_ms)
ip -n "$(ns a)" link set eth0 name eth0x
wait_until 1 "a to remove $VIP4 from the renamed interface" not vip_on_a
released=$(($(now_ms) - t0))
metric release_ms "$released"
((released <= 100 + 60)) || fail "VIP removed $released ms after the rename, more than one advert interval"
wait_until 2 "b to take over" has_addr_event b "$VIP4" add "$t0"
takeover=$(($(addr_event_ms b "$VIP4" add "$t0") - t0))
metric takeover_ms "$takeover"
# Priority 0 makes b wait only its skew (60 ms at 100 ms adverts), not three intervals.
((takeover < 3 * 100)) || fail "b took over after $takeover ms: no priority-0 advert from the renamed interface"
wait_until 2 "a to be in fault" is_state a web fault
ok "rename: VIP released in $released ms, b took over in $takeover ms"

ip -n "$(ns a)" link set eth0x name eth0
wait_until 5 "a (150) to preempt once eth0 is back" roles web "$VIP4" a b
ok "renamed back: a master again"
pass
