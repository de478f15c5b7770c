#!/usr/bin/env bash
# Migrating with vipd import-keepalived: one keepalived.conf for two hosts (@ka/@vp lines,
# $NAME definitions, a track script, notify scripts). Host a runs keepalived on the file as
# it is (-i ka); host b runs vipd on the file imported for config id vp. The right master is
# elected (a, 150), a's failing check moves the VIP to b (vipd preempts keepalived), b's
# failing check moves it back (keepalived preempts vipd), the imported notify commands run on
# b, and keepalived rejects none of vipd's packets.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init ik

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
touch "$LAB_DIR/healthy.ka" "$LAB_DIR/healthy.vp"

# The original file, as a deployment keeps it: each host picks its lines by config id.
cat >"$LAB_DIR/keepalived.conf" <<EOF
! keepalived on ka (priority 150) and vp (priority 100)
\$LAB=$LAB_DIR

global_defs {
    @ka router_id ka
    @vp router_id vp
    script_user root
    enable_script_security
}

vrrp_script chk_app {
    script "/usr/bin/test -e \${LAB}/healthy.\${_INSTANCE}"
    interval 1
    fall 2
    rise 2
    weight -60
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    version 3
    @ka priority 150
    @vp priority 100
    advert_int 0.1
    virtual_ipaddress {
        $VIP4/24
    }
    track_script {
        chk_app
    }
    notify_master "/usr/bin/touch \${LAB}/master.\${_INSTANCE}"
    notify_backup "/usr/bin/touch \${LAB}/backup.\${_INSTANCE}"
}
EOF

# b: import, give the lab's control socket, check.
"$VIPD" import-keepalived "$LAB_DIR/keepalived.conf" --config-id vp -o "$LAB_DIR/b.toml" \
	2>"$LAB_DIR/import.err" || fail "import failed: $(cat "$LAB_DIR/import.err")"
LAB_LOGS+=("$LAB_DIR/import.err" "$LAB_DIR/b.toml")
summary=$(tail -n 1 "$LAB_DIR/import.err")
[[ $summary == *"imported 1 instance (VI_1), 1 track script (chk_app); written to "*"; 0 not carried, 1 note(s)" ]] ||
	fail "unexpected import summary: $summary"
sed -i "/^\[global\]\$/a control_socket = \"$LAB_DIR/b.sock\"" "$LAB_DIR/b.toml"
grep -q '^priority = 100$' "$LAB_DIR/b.toml" || fail "b's priority is not the @vp line's 100"
grep -q '^script_user = "root"$' "$LAB_DIR/b.toml" || fail "script_user is not carried"
grep -q "^command = \[\"/usr/bin/test\", \"-e\", \"$LAB_DIR/healthy.vp\"\]\$" "$LAB_DIR/b.toml" ||
	fail "the check does not name b's own file"
"$VIPD" check -c "$LAB_DIR/b.toml" >/dev/null || fail "vipd check refuses the imported file"
ok "imported for vp: priority 100, its own check file, vipd check accepts it"

# a: keepalived on the original file, as config id ka.
log="$LAB_DIR/a.keepalived.log"
LAB_LOGS+=("$log")
mkdir -p "$LAB_DIR/a.tmp"
keepalived -t -i ka -f "$LAB_DIR/keepalived.conf" >>"$log" 2>&1 || fail "keepalived rejects the file (see $log)"
echo "=== $(date +%T.%N) START keepalived -i ka" >>"$log"
ip netns exec "$(ns a)" env TMPDIR="$LAB_DIR/a.tmp" keepalived -n -l -G -D -P -i ka \
	-f "$LAB_DIR/keepalived.conf" -p "$LAB_DIR/a.keepalived.pid" -r "$LAB_DIR/a.vrrp.pid" >>"$log" 2>&1 &
LAB_PID_OF[a]=$!
LAB_PIDS+=($!)
wait_until 10 "keepalived on a to become master" is_keepalived_state a MASTER
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "vipd on b to be backup" is_state b VI_1 backup
wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
always_for 1 "a stays master with $VIP4" only_holder "$VIP4" a a b
ok "keepalived a (150) master, vipd b (100) backup"

# a's check fails: keepalived advertises 90, vipd (100) preempts it.
monitor_start b
t0=$(now_ms)
rm "$LAB_DIR/healthy.ka"
wait_until 10 "vipd b to take $VIP4 after a's check failed" has_addr_event b "$VIP4" add "$t0"
wait_until 3 "b master" is_state b VI_1 master
wait_until 3 "keepalived a back to backup" is_keepalived_state a BACKUP
wait_until 3 "$VIP4 on b only" only_holder "$VIP4" b a b
wait_until 3 "b's imported notify_master to run" test -e "$LAB_DIR/master.vp"
metric check_fail_to_vipd_ms $(($(addr_event_ms b "$VIP4" add "$t0") - t0))
ok "a's check failed: vipd took over from keepalived; b's notify_master ran"

# b's check fails too: vipd advertises 40, keepalived (90) preempts it.
t0=$(now_ms)
rm "$LAB_DIR/healthy.vp"
wait_until 10 "keepalived a to take $VIP4 back" is_keepalived_state a MASTER
wait_until 3 "b backup" is_state b VI_1 backup
wait_until 3 "$VIP4 on a only" only_holder "$VIP4" a a b
[[ $(vipd_field b VI_1 effective_priority) == 40 ]] ||
	fail "b advertises $(vipd_field b VI_1 effective_priority), not 40"
wait_until 3 "b's imported notify_backup to run" test -e "$LAB_DIR/backup.vp"
ok "b's imported check failed (priority 40): keepalived took the VIP back; b's notify_backup ran"

# Both healthy: a (150) stays master, b (100) backup.
touch "$LAB_DIR/healthy.ka" "$LAB_DIR/healthy.vp"
wait_until 10 "b's priority back to 100" field_is b VI_1 effective_priority 100
roles_ka() { is_keepalived_state a MASTER && is_state b VI_1 backup && only_holder "$VIP4" a a b; }
always_for 2 "a master with $VIP4, b backup" roles_ka
if keepalived_log a | grep -iE 'invalid|wrong|mismatch|bogus'; then
	fail "keepalived rejected some of b's packets"
fi
ok "both healthy: keepalived a master again; keepalived rejected nothing from vipd"
pass
