#!/usr/bin/env bash
# One-way partition: nftables drops every VRRP packet a (the master) sends. b stops hearing a
# and takes over (both hold the VIP while the partition lasts); when the rule goes, b hears
# a's higher priority, steps back, and the VIP is on a only again.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init pt

pair_up 100ms

nft_drop_vrrp a out 100
wait_until 5 "b to take over once a's adverts are dropped" is_state b web master
wait_until 3 "$VIP4 on b" has_addr b "$VIP4"
is_state a web master || fail "a left master while only its own adverts were dropped: $(vipd_state a web)"
ok "a's adverts dropped: b became master too (split brain, as expected)"

monitor_start b
t0=$(now_ms)
nft_flush a
wait_until 5 "b to step back to backup when a's adverts return" is_state b web backup
wait_until 3 "$VIP4 on a only" roles web "$VIP4" a b
ev=$(addr_event_ms b "$VIP4" del "$t0") || fail "no delete event for $VIP4 on b"
metric heal_ms $((ev - t0))
always_for 1 "a master alone with $VIP4, b backup" roles web "$VIP4" a b
ok "partition healed: b stepped back, $VIP4 on a only"
pass
