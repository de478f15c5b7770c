#!/usr/bin/env bash
# Without root the agent says what it needs: `vipd run` as an unprivileged user exits 1
# naming CAP_NET_RAW and CAP_NET_ADMIN before touching anything, and `vipd status` refused
# by the socket's permissions (0600 by default) says how to get access. With
# global.control_group the socket is 0660 and that group's members get status.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init pv

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --)

lab_host a 10.99.0.1/24
vip_instance 150 100ms | vipd_conf a
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/a.toml"
rc=0
out=$(nsx a "${NOBODY[@]}" "$VIPD" run -c "$LAB_DIR/a.toml" 2>&1) || rc=$?
((rc == 1)) || fail "vipd run as nobody exited $rc, expected 1: $out"
grep -q 'needs CAP_NET_RAW.*CAP_NET_ADMIN' <<<"$out" || fail "no capability hint in: $out"
grep -q 'state change' <<<"$out" && fail "vipd run as nobody got as far as the election: $out"
ok "run as nobody: exit 1, names CAP_NET_RAW and CAP_NET_ADMIN"

start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to become master" is_state a web master
rc=0
out=$("${NOBODY[@]}" "$VIPD" status --socket "$LAB_DIR/a.sock" 2>&1) || rc=$?
((rc == 1)) || fail "vipd status as nobody exited $rc, expected 1: $out"
grep -q 'run it as root, or as a member of the group' <<<"$out" || fail "no access hint in: $out"
[[ $(stat -c %a "$LAB_DIR/a.sock") == 600 ]] || fail "the socket is not 0600 without control_group"
ok "status as nobody: exit 1 with an access hint; socket 0600"

lab_host b 10.99.0.2/24
{
	printf '[global]\ncontrol_socket = "%s/b.sock"\ncontrol_group = "nogroup"\n\n' "$LAB_DIR"
	vip_instance 150 100ms
} >"$LAB_DIR/b.toml"
start_vipd b "$LAB_DIR/b.toml"
[[ $(stat -c '%a %G' "$LAB_DIR/b.sock") == "660 nogroup" ]] || fail "b's socket is $(stat -c '%a %G' "$LAB_DIR/b.sock"), not 660 nogroup"
out=$("${NOBODY[@]}" "$VIPD" status --socket "$LAB_DIR/b.sock" 2>&1) || fail "status as a member of control_group failed: $out"
grep -q '^web ' <<<"$out" || fail "no instance row in: $out"
ok "control_group = nogroup: socket 660, status works as a member"
pass
