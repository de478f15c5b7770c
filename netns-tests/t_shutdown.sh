#!/usr/bin/env bash
# SIGTERM the master: it sends a priority-0 advert, removes the VIP and exits 0; the backup
# takes over after only its skew time (500 ms adverts: skew 300 ms, master-down 1800 ms).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sd

pair_up 500ms

monitor_start b
capture_start cap
t0=$(now_ms)
stop_agent a TERM
((AGENT_RC == 0)) || fail "vipd on a exited $AGENT_RC after SIGTERM, expected 0"
not has_addr a "$VIP4" || fail "a still holds $VIP4 after its vipd exited"
ok "a's vipd exited 0 and removed $VIP4"

wait_until 5 "b to add $VIP4 after a's shutdown" has_addr_event b "$VIP4" add "$t0"
ev=$(addr_event_ms b "$VIP4" add "$t0")
ms=$((ev - t0))
metric shutdown_takeover_ms "$ms"
bound=$(($(skew_ms 100 500) + 400))
((ms < bound)) || fail "b took $ms ms to take over after a's priority 0 (bound $bound ms; master-down is 1800 ms)"
wait_until 3 "b to report master" is_state b web master
ok "b took over $ms ms after SIGTERM (bound $bound ms)"

wait_until 3 "an advert from b on the wire" cap_at_least 1 "$ADV && ip.src == 10.99.0.2"
capture_stop
zero=$(cap_fields "$ADV && ip.src == 10.99.0.1 && vrrp.prio == 0" frame.number ip.ttl vrrp.checksum.status)
[[ -n $zero ]] || fail "no priority-0 advert from a on the wire"
n=$(wc -l <<<"$zero")
metric prio0_adverts "$n"
bad=$(awk '$2 != 255 || $3 != 1' <<<"$zero")
[[ -z $bad ]] || fail "priority-0 advert(s) with TTL != 255 or a bad checksum: $bad"
first_b=$(cap_fields "$ADV && ip.src == 10.99.0.2" frame.number | head -n 1)
(($(head -n 1 <<<"$zero" | awk '{print $1}') < first_b)) || fail "b advertised before a's priority-0 advert"
ok "a sent $n priority-0 advert(s) before b's first advert"
pass
