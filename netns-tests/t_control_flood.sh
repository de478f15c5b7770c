#!/usr/bin/env bash
# Control-socket abuse cannot starve the agent. With a 1,024-descriptor limit, 1,100 idle
# connections: the log stays short, status answers while they are still open (within the
# client timeout), and the backup never takes over. With a limit so low that accept()
# itself fails (descriptor exhaustion), the agent backs off, logs a bounded number of lines,
# keeps its role, and answers again once the clients are gone.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init cf

pair_up 100ms
pid=${LAB_PID_OF[a]}
sock="$LAB_DIR/a.sock"

# hold_clients N SECONDS: N idle connections to a's socket, held open in the background;
# returns once they are all connected (or refused).
hold_clients() {
	rm -f "$LAB_DIR/holder.out"
	python3 - "$sock" "$1" "$2" >"$LAB_DIR/holder.out" <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(sys.argv[1])
    except OSError:
        s.close()
        continue
    conns.append(s)
print(f"connected {len(conns)}", flush=True)
time.sleep(float(sys.argv[3]))
PY
	HOLDER=$!
	LAB_PIDS+=($!)
	wait_until 10 "$1 client connections to be made" grep -q connected "$LAB_DIR/holder.out"
}
control_lines() { grep -c 'control' "$LAB_DIR/a.vipd.log" || true; }

prlimit --nofile=1024:1024 --pid "$pid"
before=$(control_lines)
hold_clients 1100 8
t0=$(now_ms)
wait_until 5 "status to answer while 1,100 idle clients are connected" vipd_status a >/dev/null
metric status_ms $(($(now_ms) - t0))
alive "$HOLDER" || fail "the idle clients went away too early for the test to mean anything"
lines=$(($(control_lines) - before))
((lines <= 3)) || fail "$lines log lines about the control socket for 1,100 idle clients"
roles web "$VIP4" a b || fail "roles changed under the idle clients"
ok "1,100 idle clients at 1,024 descriptors: status in $(($(now_ms) - t0)) ms, $lines log line(s)"
wait "$HOLDER" 2>/dev/null || true

# Only the soft limit moves: raising a hard limit again would need CAP_SYS_RESOURCE.
prlimit --nofile=24:1024 --pid "$pid"
before=$(control_lines)
hold_clients 300 4
# a's own status cannot be asked while it has no descriptor to accept with: the VIP and b's
# view tell whether a kept the role.
a_kept_role() { only_holder "$VIP4" a a b && is_state b web backup; }
always_for 3 "a stays master with the VIP while accept() fails" a_kept_role
wait "$HOLDER" 2>/dev/null || true
prlimit --nofile=1024:1024 --pid "$pid"
wait_until 5 "status to answer once the clients are gone" vipd_status a >/dev/null
lines=$(($(control_lines) - before))
grep -q 'accept failed' "$LAB_DIR/a.vipd.log" || fail "accept never failed: the limit did not bite, the test proves nothing"
((lines <= 4)) || fail "$lines log lines about the control socket while descriptors were exhausted"
[[ $(state_changes b) == 1 ]] || fail "b changed state: $(state_change_lines b 0)"
ok "descriptor exhaustion: $lines log line(s), role kept, status answers afterwards"
pass
