#!/usr/bin/env bash
# One agent per configuration and per control socket, checked before anything is touched:
# a regular file at the socket path survives and start-up fails naming it; a path under a
# regular file fails before the election; a second agent on the same file, or on the same
# socket, is refused naming the first one's pid, and the first keeps its VIP, its role and
# its socket. Adverts for our VRID from this host's own address (another VRRP agent here)
# are counted and logged, never fought.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sa

# run_fails HOST CONF TEXT: `vipd run` exits 1 at once and its output contains TEXT.
run_fails() {
	local rc=0 out
	out=$(timeout 10 ip netns exec "$(ns "$1")" "$VIPD" run -c "$2" 2>&1) || rc=$?
	((rc == 1)) || fail "vipd run -c $2 exited $rc, expected 1: $out"
	grep -qF -- "$3" <<<"$out" || fail "vipd run -c $2: no '$3' in: $out"
	grep -q 'state change' <<<"$out" && fail "vipd run -c $2 joined the election before failing: $out"
	RUN_OUT=$out
}

pair_up 100ms
monitor_start a
first=${LAB_PID_OF[a]}

echo precious >"$LAB_DIR/file.sock"
vip_instance 150 100ms >"$LAB_DIR/inst.toml"
printf '[global]\ncontrol_socket = "%s"\n\n%s\n' "$LAB_DIR/file.sock" "$(cat "$LAB_DIR/inst.toml")" >"$LAB_DIR/file.toml"
run_fails a "$LAB_DIR/file.toml" "$LAB_DIR/file.sock: exists and is not a socket"
[[ $(cat "$LAB_DIR/file.sock") == precious ]] || fail "the regular file at the socket path was changed"
ok "a regular file at the socket path: start-up refused, file intact"

printf '[global]\ncontrol_socket = "%s"\n\n%s\n' "$LAB_DIR/file.sock/vipd.sock" "$(cat "$LAB_DIR/inst.toml")" >"$LAB_DIR/under.toml"
run_fails a "$LAB_DIR/under.toml" "$LAB_DIR/file.sock/vipd.sock"
ok "a socket path under a regular file: refused before the election"

run_fails a "$LAB_DIR/a.toml" "another vipd (pid $first) is already running with this configuration"
ok "second agent, same file: refused naming pid $first"
cp "$LAB_DIR/a.toml" "$LAB_DIR/a2.toml"
run_fails a "$LAB_DIR/a2.toml" "another vipd (pid $first) already serves this control socket"
ok "second agent, same socket: refused naming pid $first"

alive "$first" || fail "the first agent died"
roles web "$VIP4" a b || fail "the first agent lost its role"
not has_addr_event a "$VIP4" del 0 || fail "the first agent's VIP was deleted"
vipd_status a >/dev/null || fail "the first agent's control socket no longer answers"
ok "the first agent kept its VIP, role and socket"

# Another VRRP agent on a, advertising VRID 51 from a's own address at a higher priority.
nsx a python3 "$NT_DIR/advert.py" --src 10.99.0.1 --vrid 51 --priority 200 --vip "$VIP4" --count 20
wait_until 3 "a to count adverts from its own address" field_at_least a web local_source_adverts 1
grep -q 'ERROR.*another VRRP agent on this host' "$LAB_DIR/a.vipd.log" || fail "no ERROR line about the other agent"
(($(grep -c 'another VRRP agent on this host' "$LAB_DIR/a.vipd.log") == 1)) || fail "the other agent's adverts are logged more than once a minute"
roles web "$VIP4" a b || fail "a gave up its role to adverts from its own address"
ok "adverts from our own address: $(vipd_field a web local_source_adverts) counted, one ERROR line, role kept"
pass
