#!/usr/bin/env bash
# A split brain heals: a two-way partition of VRRP between a (150) and b (100) makes both
# master, and a client pinging the VIP follows b's gratuitous ARP. At the heal, a hears b's
# advert: it reports master_conflict, stays master, and re-announces at once; b steps down.
# The client's neighbour entry is back on a's MAC within one advert interval of the heal
# (not at the 5 s announcement repeat).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init mc

pair_up 100ms
lab_host c 10.99.0.9/24
client_mac() { ip -n "$(ns c)" neigh show "$VIP4" | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'; }
client_on() { [[ $(client_mac) == "${LAB_MAC[$1]}" ]]; } # client_on HOST: the VIP is at HOST's MAC
ip netns exec "$(ns c)" ping -n -i 0.05 -W 1 "$VIP4" >/dev/null 2>&1 &
LAB_PIDS+=($!)
wait_until 3 "the client to learn a's MAC for $VIP4" client_on a

for h in a b; do nft_drop_vrrp "$h" in 100; done
wait_until 3 "b to take over in the partition" is_state b web master
wait_until 3 "the client to follow b's announcement" client_on b
is_state a web master || fail "a left master during the partition"
# Past the neighbour locktime (1 s) since b's announcement, so the client may move again.
always_for 1.2 "both stay master while partitioned" is_state a web master
ok "partition: both master, the client on b's MAC"

t0=$(now_ms)
for h in a b; do nft_flush "$h"; done
wait_until 2 "the client back on a's MAC after the heal" client_on a
back=$(($(now_ms) - t0))
metric client_back_ms "$back"
wait_until 2 "b to step down" is_state b web backup
wait_until 2 "a to count the conflict" field_at_least a web master_conflicts 1
grep -q 'WARN another master heard: a split brain is healing.*peer=10.99.0.2' "$LAB_DIR/a.vipd.log" || fail "no master_conflict line in a's log"
((back <= 100 + 100)) || fail "the client came back $back ms after the heal, more than an advert interval (+100 ms polling)"
ok "heal: master_conflict reported, a re-announced, the client back on a's MAC in $back ms"
pass
