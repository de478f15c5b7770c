#!/usr/bin/env bash
# 30 % random loss of the master's adverts (nftables on its output) for 60 s at 100 ms adverts.
# The backup's Master_Down_Interval is 3 x 100 ms + skew (360 ms), so it takes over only when 3
# adverts in a row are lost: about 600 x 0.7 x 0.3^3 = 11 takeovers a minute (a 2-advert rule
# would give about 38, far above the bound of 40). Each takeover ends when the master's next
# advert gets through. The master itself must never change state; once the loss stops, one
# master (the 150) holds the VIP again.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init cl

WINDOW=60 LOSS=30
pair_up 100ms
always_for 1 "a master alone with $VIP4, b backup (before the loss)" roles web "$VIP4" a b
ok "a master with $VIP4, b backup"

ta0=$(vipd_field a web transitions) tb0=$(vipd_field b web transitions)
la0=$(state_changes a web) lb0=$(state_changes b web)
sent0=$(vipd_field a web adverts_sent)
nft_table a <<NFT
table inet lab {
  chain out {
    type filter hook output priority 0; policy accept;
    meta l4proto 112 counter
    meta l4proto 112 numgen random mod 100 < $LOSS counter drop
  }
}
NFT
always_for "$WINDOW" "both agents running under ${LOSS}% loss" agents_running a b
read -r out dropped < <(nft_counts a)
nft_flush a
t0=$(now_ms)
wait_until 3 "one master (a, 150) with $VIP4 after the loss stopped" roles web "$VIP4" a b
metric converge_ms $(($(now_ms) - t0))
always_for 2 "a master alone with $VIP4, b backup (loss over)" roles web "$VIP4" a b
ok "loss over: a alone holds $VIP4, b backup"

# counted once settled, so that a takeover in progress when the loss stopped is complete
sent=$(($(vipd_field a web adverts_sent) - sent0))
tb=$(($(vipd_field b web transitions) - tb0)) ta=$(($(vipd_field a web transitions) - ta0))
takeovers=$(state_change_lines b "$lb0" | grep -c "from=backup to=master") || true
stepbacks=$(state_change_lines b "$lb0" | grep -c "from=master to=backup") || true
metric loss_pct "$((dropped * 1000 / out / 10)).$((dropped * 1000 / out % 10))"
metric adverts "$out"
# expected takeovers: runs of 3 losses that start after a delivered advert, n (1 - p) p^3
metric expected_takeovers "$(awk -v n="$out" -v p="$dropped" 'BEGIN { p /= n; printf "%.1f", n * (1 - p) * p ^ 3 }')"
metric takeovers "$takeovers"
metric spurious_transitions "$((tb + ta))"
echo "  a sent $sent adverts since the loss began ($out of them in the window, $dropped dropped)"
((ta == 0 && $(state_changes a web) == la0)) ||
	fail "a (the master, only its output lossy) changed state $ta times: $(state_change_lines a "$la0" | head -5)"
((tb == takeovers + stepbacks)) || fail "b's transitions counter rose by $tb but it logged $takeovers takeovers and $stepbacks step-backs"
((stepbacks == takeovers)) || fail "b took over $takeovers times but stepped back $stepbacks times"
((takeovers >= 1)) || fail "no takeover in ${WINDOW}s of ${LOSS}% loss (about 11 expected): is the backup deaf to loss?"
((takeovers < 40)) || fail "$takeovers takeovers in ${WINDOW}s at ${LOSS}% loss: about 11 expected with the 3-advert rule"
ok "a never left master; b took over $takeovers times and stepped back $stepbacks times"

pass
