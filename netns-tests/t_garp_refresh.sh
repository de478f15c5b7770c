#!/usr/bin/env bash
# garp_refresh = "1s": the master re-announces its VIP every second, one gratuitous ARP each,
# on a schedule anchored at its takeover; the takeover's burst of 5 and its one repeat 5 s later
# stay as they are; a backup sends none.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init gr

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
garp="arp.opcode == 1 && arp.src.proto_ipv4 == $VIP4 && arp.dst.proto_ipv4 == $VIP4"
capture_start cap
vip_instance 150 100ms 'garp_refresh = "1s"' | vipd_conf a
vip_instance 100 100ms 'garp_refresh = "1s"' | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "a master, b backup" roles web "$VIP4" a b
# The takeover burst, four refreshes, then the repeat's burst at 5 s.
wait_until 9 "a's refreshes and its takeover repeat" cap_at_least 14 "$garp && eth.src == ${LAB_MAC[a]}"
capture_stop

mapfile -t times < <(cap_fields "$garp && eth.src == ${LAB_MAC[a]}" frame.time_epoch)
t0=${times[0]}
# Offsets from the first frame, in ms.
mapfile -t offs < <(printf '%s\n' "${times[@]}" | awk -v t0="$t0" '{ printf "%d\n", ($1 - t0) * 1000 }')
burst=0 refresh=()
for o in "${offs[@]}"; do
	if ((o < 500)); then burst=$((burst + 1)); elif ((o < 4500)); then refresh+=("$o"); fi
done
((burst == 5)) || fail "takeover burst of $burst frames (expected 5): ${offs[*]}"
((${#refresh[@]} == 4)) || fail "${#refresh[@]} refresh frames in the first 4.5 s (expected 4, one a second): ${offs[*]}"
for k in 1 2 3 4; do
	o=${refresh[k - 1]}
	d=$((o - k * 1000))
	((d > -150 && d < 150)) || fail "refresh $k at +$o ms, not +$((k * 1000)) ms (±150): ${offs[*]}"
	metric "refresh_${k}_ms" "$o"
done
ok "a: takeover burst of 5, then one refresh at +${refresh[*]} ms"
repeat=$(printf '%s\n' "${offs[@]}" | awk '$1 >= 4900 && $1 < 5400' | wc -l)
((repeat >= 5)) || fail "the takeover repeat at +5 s has $repeat frames (expected 5 and the refresh): ${offs[*]}"
n=$(cap_count "$garp && eth.src == ${LAB_MAC[b]}")
((n == 0)) || fail "backup b sent $n gratuitous ARPs"
ok "the repeat burst at +5 s is still there; backup b sent none"
pass
