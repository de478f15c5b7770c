#!/usr/bin/env bash
# Notify commands. A pair goes through start, failover, failback and stop; each host's notify
# log shows exactly the expected sequence, with keepalived's positional arguments and the
# VIPD_* environment. Then a slow notify command (1 s) on b under three quick transitions:
# the runs keep the order of the changes, none is lost, and the adverts keep their rhythm
# meanwhile (a never leaves master when it should not).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init nt

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
# An argv, no shell line: sh is the program, the script its -c argument; what vipd appends
# ("INSTANCE web MASTER 150") arrives as $1..$4.
notify_lines() { # HOST SLEEP
	local log="$LAB_DIR/$1.notify"
	printf 'notify = ["/bin/sh", "-c", "sleep %s; echo \\"$* from=$VIPD_FROM reason=$VIPD_REASON kind=$VIPD_KIND vips=$VIPD_VIRTUAL_ADDRESSES\\" >> %s", "notify"]\n' "$2" "$log"
	printf 'notify_master = ["/bin/sh", "-c", "echo master-only >> %s.master"]\n' "$log"
}
vip_instance 150 100ms "$(notify_lines a 0)" | vipd_conf a
vip_instance 100 100ms "$(notify_lines b 0)" | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b backup" is_state b web backup
# notify_lines_are HOST LINE...: HOST's notify log is exactly these lines.
lines_are() {
	local host=$1
	shift
	[[ $(cat "$LAB_DIR/$host.notify" 2>/dev/null) == "$(printf '%s\n' "$@")" ]]
}
A1='INSTANCE web BACKUP 150 from=init reason=startup kind=instance vips=10.99.0.50/24'
A2='INSTANCE web MASTER 150 from=backup reason=master_down_timer kind=instance vips=10.99.0.50/24'
wait_until 3 "a's notify log after start" lines_are a "$A1" "$A2"
B1='INSTANCE web BACKUP 100 from=init reason=startup kind=instance vips=10.99.0.50/24'
wait_until 3 "b's notify log after start" lines_are b "$B1"
ok "start: a notified BACKUP then MASTER, b BACKUP, with arguments and environment"

cut_link a
B2='INSTANCE web MASTER 100 from=backup reason=master_down_timer kind=instance vips=10.99.0.50/24'
A3='INSTANCE web FAULT 150 from=master reason=interface_down kind=instance vips=10.99.0.50/24'
wait_until 3 "b notified MASTER" lines_are b "$B1" "$B2"
wait_until 3 "a notified FAULT" lines_are a "$A1" "$A2" "$A3"
restore_link a
A4='INSTANCE web BACKUP 150 from=fault reason=interface_up kind=instance vips=10.99.0.50/24'
A5='INSTANCE web MASTER 150 from=backup reason=master_down_timer kind=instance vips=10.99.0.50/24'
B3='INSTANCE web BACKUP 100 from=master reason=higher_priority_advert kind=instance vips=10.99.0.50/24'
wait_until 5 "a notified BACKUP then MASTER after failback" lines_are a "$A1" "$A2" "$A3" "$A4" "$A5"
wait_until 3 "b notified BACKUP after failback" lines_are b "$B1" "$B2" "$B3"
stop_agent a
A6='INSTANCE web STOP 150 from=master reason=shutdown kind=instance vips=10.99.0.50/24'
wait_until 3 "a notified STOP at exit" lines_are a "$A1" "$A2" "$A3" "$A4" "$A5" "$A6"
[[ $(wc -l <"$LAB_DIR/a.notify.master") == 2 ]] || fail "notify_master ran $(wc -l <"$LAB_DIR/a.notify.master") times on a, not 2"
grep -q 'notify ran.*duration' "$LAB_DIR/a.vipd.log" || fail "no log line per notify run with its duration"
ok "failover, failback, stop: exact sequences on both hosts; notify_master ran twice on a"

# The slow one: b's notify sleeps 1 s; three quick transitions must come out in order.
stop_agent b
: >"$LAB_DIR/b.notify"
vip_instance 100 100ms "$(notify_lines b 1)" | vipd_conf b
a_before=$(state_changes a)
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a master again" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "b backup again" is_state b web backup
cut_link a
wait_until 3 "b master" is_state b web master
restore_link a
wait_until 3 "b backup again (a preempted)" is_state b web backup
want=('INSTANCE web BACKUP 100 from=init reason=startup kind=instance vips=10.99.0.50/24'
	'INSTANCE web MASTER 100 from=backup reason=master_down_timer kind=instance vips=10.99.0.50/24'
	'INSTANCE web BACKUP 100 from=master reason=higher_priority_advert kind=instance vips=10.99.0.50/24')
wait_until 6 "b's three slow notifications, in order" lines_are b "${want[@]}"
# a: init->backup->master, ->fault at the cut, ->backup->master after it: 5, no more.
(($(state_changes a) - a_before == 5)) || fail "a changed state unexpectedly while b's notifications ran: $(state_change_lines a "$a_before")"
ok "slow notify (1 s): three changes notified in order, none lost, the protocol unaffected"
pass
