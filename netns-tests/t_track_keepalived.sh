#!/usr/bin/env bash
# keepalived as the peer sees vipd's lowered priority: vipd a (150, a check with weight -60)
# is master over keepalived b (100); when a's check fails, a advertises 90 and keepalived
# preempts; when it passes again, a preempts back. keepalived rejects none of a's packets.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init tk

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
touch "$LAB_DIR/healthy"
{
	printf '[[track_script]]\nname = "app"\ncommand = ["/usr/bin/test", "-e", "%s/healthy"]\n' "$LAB_DIR"
	printf 'interval = "100ms"\nfall = 2\nrise = 2\n\n'
	vip_instance 150 100ms 'track = [{ script = "app", weight = -60 }]'
} | vipd_conf a
keepalived_conf b 3 100 0.1
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to become master" is_state a web master
start_keepalived b "$LAB_DIR/b.keepalived.conf"
wait_until 5 "keepalived to enter backup" is_keepalived_state b BACKUP
wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
ok "vipd a master, keepalived b backup"

monitor_start b
t0=$(now_ms)
rm "$LAB_DIR/healthy"
wait_until 5 "keepalived to take $VIP4 after a's check failed" has_addr_event b "$VIP4" add "$t0"
metric check_fail_to_keepalived_ms $(($(addr_event_ms b "$VIP4" add "$t0") - t0))
wait_until 3 "a to step down to backup" is_state a web backup
wait_until 3 "$VIP4 on b only" only_holder "$VIP4" b a b
ok "a's check failed: keepalived saw priority 90 and took over"

touch "$LAB_DIR/healthy"
wait_until 5 "a to preempt keepalived" is_state a web master
wait_until 5 "keepalived back to backup" is_keepalived_state b BACKUP
wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
if keepalived_log b | grep -iE 'invalid|wrong|mismatch|bogus'; then fail "keepalived rejected some of a's packets"; fi
ok "a's check passed: a preempted keepalived; keepalived rejected nothing"
pass
