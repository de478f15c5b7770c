#!/usr/bin/env bash
# systemd's notification protocol, received on a test socket: READY=1 once the instance has
# joined its election, STATUS= lines as its state changes, WATCHDOG=1 at half the requested
# period from the event loop, RELOADING=1 with MONOTONIC_USEC then READY=1 around a reload
# (SIGHUP), STOPPING=1 at SIGTERM.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sd

lab_host a 10.99.0.1/24
vip_instance 150 100ms | vipd_conf a
sock="$LAB_DIR/notify.sock"
python3 - "$sock" "$LAB_DIR/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        data = s.recv(4096).decode()
        log.write(f"{time.monotonic():.3f} {data}\n")
PY
LAB_PIDS+=($!)
wait_until 5 "the test's notification socket" test -S "$sock"
NOTIFY_SOCKET=$sock WATCHDOG_USEC=200000 start_vipd a "$LAB_DIR/a.toml"
wait_until 3 "READY=1" grep -q ' READY=1$' "$LAB_DIR/notify.log"
wait_until 3 "a master" is_state a web master
wait_until 3 "STATUS with one master" grep -q ' STATUS=1 master, 0 backup, 0 fault$' "$LAB_DIR/notify.log"
grep -q ' STATUS=0 master, 1 backup, 0 fault$' "$LAB_DIR/notify.log" || fail "no STATUS line for the backup state"
ok "READY=1, then STATUS lines as a went backup and master"

before=$(grep -c ' WATCHDOG=1$' "$LAB_DIR/notify.log" || true)
t0=$(now_ms)
always_for 2 "the agent keeps running" alive "${LAB_PID_OF[a]}"
pings=$(($(grep -c ' WATCHDOG=1$' "$LAB_DIR/notify.log") - before))
elapsed=$(($(now_ms) - t0))
metric watchdog_pings "$pings"
# Every 100 ms (half of WATCHDOG_USEC): about 20 in 2 s.
((pings >= elapsed / 100 - 3 && pings <= elapsed / 100 + 3)) || fail "$pings watchdog pings in $elapsed ms, expected one per 100 ms"
ok "WATCHDOG=1 every 100 ms from the loop ($pings in $elapsed ms)"

kill -HUP "${LAB_PID_OF[a]}"
wait_until 3 "RELOADING=1 at SIGHUP" grep -q ' RELOADING=1$' "$LAB_DIR/notify.log"
wait_until 3 "READY=1 after the reload" test "$(grep -c ' READY=1$' "$LAB_DIR/notify.log")" -ge 2
# RELOADING=1 and MONOTONIC_USEC come in one datagram: the log has them on two lines.
read -r logged usec < <(awk '/ RELOADING=1$/ {t = $1; getline; sub("MONOTONIC_USEC=", ""); print t, $0; exit}' "$LAB_DIR/notify.log")
[[ $usec =~ ^[0-9]+$ ]] || fail "no MONOTONIC_USEC with RELOADING=1: $(cat "$LAB_DIR/notify.log")"
# The test's receiver stamps CLOCK_MONOTONIC too: the two agree within a second.
python3 -c "import sys; sys.exit(abs(float(sys.argv[1]) - int(sys.argv[2]) / 1e6) > 1)" "$logged" "$usec" ||
	fail "MONOTONIC_USEC=$usec is not the monotonic clock (received at $logged)"
reload_ready=$(awk '/ RELOADING=1$/ {r = 1; next} r && / READY=1$/ {print "yes"; exit}' "$LAB_DIR/notify.log")
[[ $reload_ready == yes ]] || fail "no READY=1 after RELOADING=1"
is_state a web master || fail "a left master at the reload"
ok "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1; a still master"

stop_agent a
((AGENT_RC == 0)) || fail "vipd exited $AGENT_RC"
wait_until 2 "STOPPING=1" grep -q ' STOPPING=1$' "$LAB_DIR/notify.log"
ok "STOPPING=1 at SIGTERM"
pass
