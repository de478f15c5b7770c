#!/usr/bin/env bash
# Without root the agent says what it needs: `vipd run` as an unprivileged user exits 1
# naming CAP_NET_RAW and CAP_NET_ADMIN before touching anything, and `vipd status` refused
# by the socket's permissions says how to get access.
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
ok "status as nobody: exit 1 with an access hint"
pass
