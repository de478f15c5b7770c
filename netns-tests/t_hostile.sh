#!/usr/bin/env bash
# Hostile adverts: while a (150) is master and b (100) backup, a third host floods the VRRP group
# for 6 s with adverts every receiver must drop (flood.py: TTL 64 / TTL 1, bad checksum, a
# spoofed priority-255 owner with a bad checksum, truncated, lying address count, wrong
# version, wrong type, unknown VRID, interval 0, random bytes), many of them claiming a priority
# that would win the election if accepted. A client pings the VIP every 20 ms and the test polls
# a's addresses: a must keep the VIP throughout (no state change on either host), keep
# answering status, and count every packet under the drop kind it belongs to.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init ho

SECS=6 RATE=1500
pair_up 100ms
lab_host c 10.99.0.9/24 # the flooder
lab_host d 10.99.0.8/24 # a client of the VIP
wait_until 3 "the client to reach $VIP4" nsx d ping -c 1 -W 1 -q "$VIP4" >/dev/null
ok "a master with $VIP4, b backup, the client reaches $VIP4"

declare -A K0
for h in a b; do
	vipd_status "$h" >"$LAB_DIR/$h.before.json"
	K0[$h]=$(raw_drops "$h")
done
la0=$(state_changes a) lb0=$(state_changes b)

npings=$((SECS * 50 + 50))
ip netns exec "$(ns d)" ping -n -i 0.02 -c "$npings" -W 2 "$VIP4" >"$LAB_DIR/ping.out" 2>&1 &
PING_PID=$!
LAB_PIDS+=($!)
ip netns exec "$(ns c)" python3 "$NT_DIR/flood.py" --src 10.99.0.9 --spoof 10.99.0.200 --vip "$VIP4" \
	--vrid 51 --seconds "$SECS" --rate "$RATE" >"$LAB_DIR/flood.json" 2>"$LAB_DIR/flood.err" &
FLOOD_PID=$!
LAB_PIDS+=($!)
polls=0
while running "$FLOOD_PID"; do
	has_addr a "$VIP4" || fail "a lost $VIP4 during the flood (after $polls polls)"
	polls=$((polls + 1))
	sleep 0.02
done
wait "$FLOOD_PID" || fail "flood.py failed: $(cat "$LAB_DIR/flood.err")"
total=$(jq .total "$LAB_DIR/flood.json")
echo "  flood: $(jq -c .sent "$LAB_DIR/flood.json")"
metric flood_packets "$total"
metric flood_pps $((total * 10 / $(jq '.seconds * 10 | floor' "$LAB_DIR/flood.json")))
((total >= SECS * RATE * 8 / 10)) || fail "the flood sent only $total packets"
ok "a held $VIP4 at each of $polls polls during the flood"

# Every flood packet is either counted by vipd or dropped by the kernel (full socket buffer).
accounted() { (($(rx_field "$1" .received) - $(jq '.receive[0].received' "$LAB_DIR/$1.before.json") + $(raw_drops "$1") - K0[$1] >= total)); }
wait_until 5 "a to have read (or the kernel to have dropped) all $total flood packets" accounted a
wait_until 5 "b to have read (or the kernel to have dropped) all $total flood packets" accounted b
wait_until 5 "the client's pings to finish" not running "$PING_PID"
for h in a b; do
	vipd_status "$h" >"$LAB_DIR/$h.after.json" || fail "$h's agent does not answer status after the flood"
	agents_running "$h" || fail "$h's agent died"
	not grep -q panicked "$LAB_DIR/$h.vipd.log" || fail "$h's agent panicked"
done
(($(state_changes a) == la0)) || fail "a changed state during the flood: $(state_change_lines a "$la0" | head -3)"
(($(state_changes b) == lb0)) || fail "b changed state during the flood: $(state_change_lines b "$lb0" | head -3)"
roles web "$VIP4" a b || fail "after the flood a is $(vipd_state a web) and b $(vipd_state b web) (holders: $(holders "$VIP4" a b))"
ok "no state change on a or b; a master with $VIP4, both agents answer"

read -r tx rx < <(awk '/packets transmitted/ { print $1, $4 }' "$LAB_DIR/ping.out")
metric ping_lost "$((tx - rx))/$tx"
((tx > 0 && rx == tx)) || fail "the client lost $((tx - rx)) of $tx pings to $VIP4: $(tail -2 "$LAB_DIR/ping.out" | paste -sd' ')"
ok "the client got all $rx of $tx pings (20 ms apart) answered"

# delta HOST JQ: the growth of a status field during the flood.
delta() { echo $(($(jq "$2" "$LAB_DIR/$1.after.json") - $(jq "$2" "$LAB_DIR/$1.before.json"))); }
for h in a b; do
	kd=$(($(raw_drops "$h") - K0[$h]))
	metric "kernel_drops_$h" "$kd"
	sum=0 line=""
	for k in ip_header ttl version type length checksum unknown_vrid not_peer auth interval; do
		d=$(delta "$h" ".receive[0].drops.$k")
		want=$(jq ".expect.$k // 0" "$LAB_DIR/flood.json")
		sum=$((sum + d))
		line+=" $k=$d/$want"
		((d >= want - kd)) || fail "$h counted $d '$k' drops, the flood sent $want of that kind (kernel dropped $kd)"
	done
	echo "  $h drops (counted/sent):$line"
	rxd=$(delta "$h" '.receive[0].received')
	acc=$(delta "$h" '.instances[0].adverts_received')
	((sum + kd >= total)) || fail "$h: $sum drops + $kd kernel drops < $total flood packets"
	((rxd - sum - acc >= 0 && rxd - sum - acc <= 2)) ||
		fail "$h: received $rxd = $sum drops + $acc accepted adverts does not add up"
	[[ $h == b ]] || ((acc == 0)) || fail "a (master, b silent) accepted $acc adverts during the flood: one of the flood's got through"
done
metric drops_a "$(($(delta a '[.receive[0].drops[]] | add')))"
ok "every flood packet counted under its drop kind on a and b; totals consistent"
pass
