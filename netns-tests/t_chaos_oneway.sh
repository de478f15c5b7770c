#!/usr/bin/env bash
# One-way loss, five rounds: nftables drops every VRRP packet the master (a, 150) sends, so b
# takes over and both hold the VIP; then the rule goes (heal). a's next advert (at most one
# 100 ms interval later, or its answer to b's advert) makes b step back: b must release the VIP
# within one interval plus a scheduling margin, measured from the heal to b's address-delete
# event (`ip -ts monitor address`). a never leaves master.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init co

ROUNDS=5 INT=100 MARGIN=400
pair_up "${INT}ms"
monitor_start b
la0=$(state_changes a web)

both_master() { is_state a web master && is_state b web master && [[ $(holders "$VIP4" a b) == "a b" ]]; }
max=0 sum=0
for r in $(seq "$ROUNDS"); do
	nft_drop_vrrp a out 100
	wait_until 5 "round $r: b to take over while a's adverts are dropped" both_master
	ok "round $r: a's output cut: a and b both master, both hold $VIP4"
	t_pre=$(now_ms)
	nft_flush a
	t0=$(now_ms) # the rule is gone when nft returns (its netlink commit ends the command)
	wait_until 3 "round $r: b to release $VIP4 after the heal" has_addr_event b "$VIP4" del "$t_pre"
	ms=$(($(addr_event_ms b "$VIP4" del "$t_pre") - t0))
	((ms < 0)) && ms=0
	wait_until 3 "round $r: a master alone with $VIP4, b backup" roles web "$VIP4" a b
	echo "  round $r: b released $VIP4 $ms ms after the heal (nft took $((t0 - t_pre)) ms)"
	((ms <= INT + MARGIN)) || fail "round $r: b released $VIP4 $ms ms after the heal (bound ${INT} + ${MARGIN} ms)"
	((ms > max)) && max=$ms
	sum=$((sum + ms))
	is_state a web master || fail "round $r: a is $(vipd_state a web), not master"
done
metric heal_ms_max "$max"
metric heal_ms_avg $((sum / ROUNDS))
(($(state_changes a web) == la0)) || fail "a changed state: $(state_change_lines a "$la0" | head -5)"
always_for 1 "a master alone with $VIP4, b backup" roles web "$VIP4" a b
ok "$ROUNDS heals: b released $VIP4 within $max ms each time (bound $((INT + MARGIN)) ms), a stayed master"
pass
