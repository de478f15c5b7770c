#!/usr/bin/env bash
# The event stream (`vipd events`). At 100 ms adverts, subscribers on the backup (JSON and
# text) see its state_change to master within one advert interval of the kernel adding the VIP
# after the master's link is cut, and their `vipd events` exits 0 when the agent stops. At
# 10 ms adverts, a subscriber stopped with SIGSTOP (it never reads) while a tracked interface
# flaps for a few seconds (more events than its queue holds) is cut off
# (events.dropped_subscribers) without the agent missing a beat: no takeover by the peer,
# status answers throughout; resumed, it prints what it had and ends.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init ev

# stamp: prefix each input line with the epoch time in microseconds when it arrived.
stamp() {
	local line
	while IFS= read -r line; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$line"; done
}
event_field() { vipd_status "$1" | jq -r ".events.$2"; } # event_field HOST subscribers|published|dropped_subscribers
# subscribed HOST N: HOST's agent counts N subscribers (its last answer kept in LAB_DIR).
subscribed() {
	"$VIPD" status --socket "$LAB_DIR/$1.sock" --json >"$LAB_DIR/$1.status.json" 2>&1 || return 1
	[[ $(jq -r .events.subscribers "$LAB_DIR/$1.status.json") == "$2" ]]
}

# ---- 1. delivery: the backup's takeover, as it happens -----------------------------------
pair_up 100ms
monitor_start b
"$VIPD" events --socket "$LAB_DIR/b.sock" --json 2>"$LAB_DIR/json.err" > >(stamp >"$LAB_DIR/json.out") &
json_pid=$!
LAB_PIDS+=($!)
"$VIPD" events --socket "$LAB_DIR/b.sock" >"$LAB_DIR/text.out" 2>"$LAB_DIR/text.err" &
text_pid=$!
LAB_PIDS+=($!)
wait_until 3 "b to count both subscribers" subscribed b 2
ok "two subscribers on b (JSON and text)"

takeover_after_cut a b "$VIP4" 5 failover_ms
to_master='"event":"state_change".*"to":"master"'
wait_until 2 "b's JSON subscriber to get the state_change to master" grep -q "$to_master" "$LAB_DIR/json.out"
line=$(grep -m 1 "$to_master" "$LAB_DIR/json.out")
received_ms=$((${line%% *} / 1000))
json=${line#* }
added_ms=$(addr_event_ms b "$VIP4" add)
[[ $json == '{"time":"'* ]] || fail "the time is not the first field: $json"
jq -e '.instance == "web" and .from == "backup" and .to == "master" and .reason == "master_down_timer"
	and .priority == 100 and .effective_priority == 100' <<<"$json" >/dev/null ||
	fail "unexpected state_change: $json"
time=$(jq -r .time <<<"$json")
[[ $time =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] || fail "time not RFC 3339 UTC with milliseconds: $time"
stamped_ms=$(date -d "$time" +%s%3N)
delivery=$((received_ms - added_ms))
stamp_gap=$((stamped_ms - added_ms))
metric event_after_vip_ms "$delivery"
((${delivery#-} <= 100)) || fail "the state_change reached the subscriber $delivery ms from the VIP's address event (bound 100 ms)"
((${stamp_gap#-} <= 100)) || fail "the state_change is stamped $time, $stamp_gap ms from the VIP's address event"
ok "state_change to master received $delivery ms from the kernel adding $VIP4 (stamped $stamp_gap ms)"

wait_until 2 "b's text subscriber to print the state change" \
	grep -q ' state_change web backup -> master (master_down_timer) priority 100/100$' "$LAB_DIR/text.out"
ok "text: $(grep -m 1 'state_change web backup -> master' "$LAB_DIR/text.out")"

stop_agent b TERM
((AGENT_RC == 0)) || fail "b exited $AGENT_RC"
for pid in "$json_pid" "$text_pid"; do
	wait_until 3 "vipd events (pid $pid) to exit once b stopped" not alive "$pid"
	rc=0
	wait "$pid" || rc=$?
	((rc == 0)) || fail "vipd events exited $rc when the agent stopped: $(cat "$LAB_DIR/json.err" "$LAB_DIR/text.err")"
done
grep -q '"to":"init","reason":"shutdown"' "$LAB_DIR/json.out" || fail "no shutdown state_change before the end of the stream"
ok "the stream ends with b's shutdown state_change; vipd events exits 0"
stop_agent a TERM
restore_link a

# ---- 2. a subscriber that never reads ------------------------------------------------------
ip -n "$(ns a)" link add t0 type veth peer name t1
ip -n "$(ns a)" link set t1 up
ip -n "$(ns a)" link set t0 up
vip_instance 150 10ms 'track = [{ interface = "t0", weight = -10 }]' | vipd_conf a
vip_instance 100 10ms | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master at 10ms" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b (100) to be backup at 10ms" is_state b web backup
wait_until 3 "$VIP4 on a only" roles web "$VIP4" a b
"$VIPD" events --socket "$LAB_DIR/a.sock" --json >"$LAB_DIR/stalled.out" 2>"$LAB_DIR/stalled.err" &
stalled=$!
LAB_PIDS+=($!)
wait_until 3 "a to count the subscriber" subscribed a 1
kill -STOP "$stalled"
b_changes=$(state_changes b)
published0=$(event_field a published)

# A steady flood of events: t0 goes down and up again and again (a track_change and a
# priority_change each way), in batches of 10 so that `ip` never holds the kernel's rtnl lock
# for long (the agent reads the link's state after each change), for at least 3 s and until
# the stopped subscriber is cut off.
for _ in $(seq 10); do printf 'link set t0 down\nlink set t0 up\n'; done >"$LAB_DIR/flap.batch"
(
	end=$(($(now_ms) + 30000))
	while [[ ! -e $LAB_DIR/flap.stop ]] && (($(now_ms) < end)); do
		ip -n "$(ns a)" -batch "$LAB_DIR/flap.batch"
		sleep 0.005
	done
) &
flapper=$!
LAB_PIDS+=($!)
t0=$(now_ms)
slowest=0
cut_off_after_3s() {
	local s0 dropped took
	s0=$(now_ms)
	dropped=$(event_field a dropped_subscribers) || fail "status did not answer during the flood"
	took=$(($(now_ms) - s0))
	((took > slowest)) && slowest=$took
	is_state b web backup || fail "b left backup while a's subscriber was stopped: $(state_change_lines b "$b_changes")"
	((dropped >= 1 && $(now_ms) - t0 >= 3000))
}
wait_until 30 "the stopped subscriber to be cut off" cut_off_after_3s
touch "$LAB_DIR/flap.stop"
wait_until 5 "the flapping to stop" not alive "$flapper"
events=$(($(event_field a published) - published0))
metric flood_events "$events"
metric status_slowest_ms "$slowest"
[[ $(state_changes b) == "$b_changes" ]] || fail "b changed state during the flood: $(state_change_lines b "$b_changes")"
roles web "$VIP4" a b || fail "roles changed during the flood"
[[ $(event_field a subscribers) == 0 ]] || fail "the cut-off subscriber is still counted"
cause=$(grep -m 1 -oE 'event subscriber (fell behind|stopped reading)' "$LAB_DIR/a.vipd.log") ||
	fail "a did not log cutting the subscriber off"
ok "stopped subscriber cut off (${cause#event subscriber }) during $events events in $(($(now_ms) - t0)) ms; b stayed backup; status answered (slowest $slowest ms)"

kill -CONT "$stalled"
wait_until 5 "the resumed vipd events to finish" not alive "$stalled"
rc=0
wait "$stalled" || rc=$?
lines=$(wc -l <"$LAB_DIR/stalled.out")
((lines < events)) || fail "the stopped subscriber got all $events events: it was not cut off"
if ((rc == 1)); then
	grep -q 'did not keep up' "$LAB_DIR/stalled.err" || fail "exit 1 without the reason: $(cat "$LAB_DIR/stalled.err")"
	ok "resumed, it printed the $lines lines it had, then the reason: $(cat "$LAB_DIR/stalled.err")"
else
	((rc == 0)) || fail "vipd events exited $rc: $(cat "$LAB_DIR/stalled.err")"
	ok "resumed, it printed the $lines lines it had, then the stream ended"
fi
pass
