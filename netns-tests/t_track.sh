#!/usr/bin/env bash
# Health tracking moves the VIP. a (150) tracks a check script (weight -60, 100 ms, fall 2,
# rise 2): when it starts failing, a advertises 90 and b (100) takes over; when it passes again
# a preempts back. A check that hangs (and forks) is killed with its whole process group at its
# timeout, counted as failed, and leaves no process behind, while the adverts keep their
# rhythm. A track file with weight 0 puts a in FAULT with that cause, and back.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init tr

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_link a eth1 br1 10.98.0.1/24
touch "$LAB_DIR/healthy"
echo 0 >"$LAB_DIR/drain"
{
	printf '[[track_script]]\nname = "app"\ncommand = ["/usr/bin/test", "-e", "%s/healthy"]\n' "$LAB_DIR"
	printf 'interval = "100ms"\nrise = 2\nfall = 2\n\n'
	printf '[[track_script]]\nname = "hang"\ncommand = ["/bin/sh", "-c", "sleep 100 & sleep 100"]\n'
	printf 'interval = "500ms"\ntimeout = "200ms"\n\n'
	printf '[[track_file]]\nname = "drain"\npath = "%s/drain"\n\n' "$LAB_DIR"
	vip_instance 150 100ms 'track = [{ script = "app", weight = -60 }, { script = "hang", weight = -1 }, { file = "drain" }, { interface = "eth1" }]'
} | vipd_conf a
vip_instance 100 100ms | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b to be backup" is_state b web backup
wait_until 3 "a's effective priority 149 (the hanging check failed)" field_is a web effective_priority 149
ok "a master at 149: 150, minus 1 for the hanging check"

# The hanging check: killed at 200 ms with its process group, every 500 ms; never more than
# one generation (two sleeps) alive, and the adverts keep going meanwhile.
max_sleeps=0
for _ in $(seq 20); do
	n=0
	for pid in $(ip netns pids "$(ns a)"); do [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]] && n=$((n + 1)); done
	((n > max_sleeps)) && max_sleeps=$n
	sleep 0.1
done
((max_sleeps <= 2)) || fail "$max_sleeps sleep processes at once: killed checks leave processes behind"
[[ $(track_field a hang .verdict.last.reason) == *"timed out"* ]] || fail "the hanging check's last result is not a timeout: $(track_field a hang .verdict.last)"
[[ $(state_changes b) == 1 ]] || fail "b changed state while a's check hung: $(state_change_lines b 0)"
metric hang_max_sleeps "$max_sleeps"
ok "hanging check killed with its group (at most $max_sleeps sleeps at once), adverts unaffected"

monitor_start b
t0=$(now_ms)
rm "$LAB_DIR/healthy"
wait_until 5 "b to add $VIP4 after a's check started failing" has_addr_event b "$VIP4" add "$t0"
moved=$(($(addr_event_ms b "$VIP4" add "$t0") - t0))
metric check_fail_to_vip_ms "$moved"
wait_until 2 "b master alone" roles web "$VIP4" b a
[[ $(vipd_field a web effective_priority) == 89 ]] || fail "a's effective priority is $(vipd_field a web effective_priority), not 89"
[[ $(track_field a app .verdict.healthy) == false ]] || fail "status does not show the app check failed"
ok "check failing: b took over $moved ms after the health file went"

touch "$LAB_DIR/healthy"
wait_until 5 "a to preempt once its check passes again" roles web "$VIP4" a b
ok "check passing again: a preempted"

echo 1 >"$LAB_DIR/drain"
wait_until 5 "a in fault for the drain file" is_state a web fault
[[ $(vipd_field a web fault_causes) == '["track:drain"]' ]] || fail "fault causes: $(vipd_field a web fault_causes)"
b_alone() { is_state b web master && only_holder "$VIP4" b a b; }
wait_until 3 "b master, the only holder, while a is drained" b_alone
grep -q 'from=master to=fault reason=track_fault' "$LAB_DIR/a.vipd.log" || fail "no track_fault state change in a's log"
echo 0 >"$LAB_DIR/drain"
wait_until 5 "a master again after the drain" roles web "$VIP4" a b
ok "weight-0 track file: fault with its cause, and back"

ip -n "$(ns sw)" link set vaeth1 down
wait_until 5 "a in fault for its tracked eth1" is_state a web fault
[[ $(vipd_field a web fault_causes) == '["track:eth1"]' ]] || fail "fault causes: $(vipd_field a web fault_causes)"
wait_until 3 "b master, the only holder, while a's eth1 is down" b_alone
ip -n "$(ns sw)" link set vaeth1 up
wait_until 5 "a master again once eth1 is back" roles web "$VIP4" a b
ok "tracked interface down: fault with its cause, and back"
pass
