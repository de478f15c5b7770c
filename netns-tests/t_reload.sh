#!/usr/bin/env bash
# Reload without flap. a (150) and b (100) run web, db and old; a is master of all three.
# a's file then keeps web as it is, gives db another address list, drops old and adds new.
# `vipd reload` applies exactly that difference: web's adverts never gap and its address is
# never deleted; db stays master, gains .61 and loses .62 and nothing else; old is released
# with priority 0 (b takes it over within its skew); new joins and preempts b. An invalid
# file, and a directory in its place, change nothing. SIGHUP reloads too. A member of
# control_group may read status but not reload. Two reloads at once are served one after the
# other, and a reload can move the control socket.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init rl

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
{
	named_instance web 51 150 "$VIP4"
	named_instance db 52 150 10.99.0.60 10.99.0.62
	named_instance old 53 150 10.99.0.70
} | vipd_conf a
{
	named_instance web 51 100 "$VIP4"
	named_instance db 52 100 10.99.0.60 10.99.0.61 10.99.0.62
	named_instance old 53 100 10.99.0.70
	named_instance new 54 100 10.99.0.80
} | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
for i in web db old; do wait_until 5 "a master of $i" is_state a "$i" master; done
start_vipd b "$LAB_DIR/b.toml"
for i in web db old; do wait_until 5 "b backup of $i" is_state b "$i" backup; done
wait_until 5 "b master of new (a does not run it yet)" is_state b new master
ok "a master of web, db and old; b backup of those and master of new"

monitor_start a
capture_start reload
a_changes=$(state_changes a web)
b_changes=$(state_changes b web)
{
	named_instance new 54 150 10.99.0.80
	named_instance web 51 150 "$VIP4"
	named_instance db 52 150 10.99.0.60 10.99.0.61
} | vipd_conf a
always_for 0.5 "a keeps web before the reload" is_state a web master
t0=$(now_ms)
out=$("$VIPD" reload --socket "$LAB_DIR/a.sock" 2>&1) || fail "vipd reload failed: $out"
metric reload_ms $(($(now_ms) - t0))
echo "$out" | sed 's/^/    | /'
grep -q 'kept 1, changed 1, replaced 0, added 1, removed 1' <<<"$out" || fail "unexpected summary: $out"
for line in 'kept +web' 'changed +db' 'added +new' 'removed +old'; do
	grep -Eq "^ +$line\$" <<<"$out" || fail "no '$line' line in: $out"
done
wait_until 3 "b to take over old after a released it" is_state b old master
wait_until 3 "a to preempt b for new" is_state a new master
wait_until 2 "db's new address on a" has_addr a 10.99.0.61
wait_until 2 "db's dropped address gone from a" not has_addr a 10.99.0.62
always_for 1 "web and db stay master on a" eval 'is_state a web master && is_state a db master'
capture_stop

# web: no advert gap, no address deleted, no state change anywhere.
mapfile -t times < <(cap_fields "vrrp.virt_rtr_id == 51 && ip.src == 10.99.0.1" frame.time_epoch)
((${#times[@]} > 15)) || fail "only ${#times[@]} adverts of web captured"
gap=$(printf '%s\n' "${times[@]}" | awk 'NR > 1 {g = ($1 - p) * 1000; if (g > m) m = g} {p = $1} END {printf "%d", m}')
metric web_max_gap_ms "$gap"
((gap < 200)) || fail "web's adverts paused for $gap ms around the reload (interval 100 ms)"
has_addr_event a "$VIP4" del && fail "web's address was deleted on a during the reload"
has_addr_event a 10.99.0.60 del && fail "db's kept address was deleted on a"
(($(state_changes a web) == a_changes && $(state_changes b web) == b_changes)) || fail "web changed state"
prio0=$(cap_count "vrrp.virt_rtr_id == 53 && ip.src == 10.99.0.1 && vrrp.prio == 0")
((prio0 >= 1)) || fail "a did not release old with priority 0"
ok "web untouched (largest advert gap $gap ms), db changed in place, old released (priority 0), new joined"

# An invalid file: every error reported, nothing changes.
cp "$LAB_DIR/a.toml" "$LAB_DIR/a.toml.good"
sed -i 's/^priority = 150$/priority = 300/; s/^vrid = 54$/vrid = 54\nbogus_key = 1/' "$LAB_DIR/a.toml"
if out=$("$VIPD" reload --socket "$LAB_DIR/a.sock" 2>&1); then fail "an invalid reload succeeded: $out"; fi
echo "$out" | sed 's/^/    | /'
grep -q 'priority' <<<"$out" && grep -q 'bogus_key' <<<"$out" || fail "not every error reported: $out"
grep -q 'running configuration is unchanged' <<<"$out" || fail "no word that nothing changed: $out"
# A directory where the file was.
mv "$LAB_DIR/a.toml" "$LAB_DIR/a.toml.bad"
mkdir "$LAB_DIR/a.toml"
if out=$("$VIPD" reload --socket "$LAB_DIR/a.sock" 2>&1); then fail "reloading a directory succeeded: $out"; fi
rmdir "$LAB_DIR/a.toml"
for i in web db new; do is_state a "$i" master || fail "a left master of $i after a refused reload"; done
[[ $(vipd_field a web priority) == 150 ]] || fail "web's priority changed by a refused reload"
ok "invalid file and directory refused with every error; nothing changed"

# SIGHUP, with web at 140 and the control socket opened to a group.
{
	printf '[global]\nrouter_id = "a"\ncontrol_socket = "%s/a.sock"\ncontrol_group = "nogroup"\n\n' "$LAB_DIR"
	named_instance new 54 150 10.99.0.80
	named_instance web 51 140 "$VIP4"
	named_instance db 52 150 10.99.0.60 10.99.0.61
} >"$LAB_DIR/a.toml"
kill -HUP "${LAB_PID_OF[a]}"
wait_until 3 "SIGHUP to apply web's new priority" field_is a web priority 140
grep -q 'reload applied via=SIGHUP' "$LAB_DIR/a.vipd.log" || fail "no 'reload applied' line for SIGHUP"
is_state a web master || fail "a left master of web at priority 140"
wait_until 2 "the socket opened to nogroup" test "$(stat -c %a:%G "$LAB_DIR/a.sock")" = 660:nogroup
chmod 755 "$LAB_DIR" # the socket's directory must be reachable for the group to matter
as_nobody() { setpriv --reuid=65534 --regid=65534 --groups=65534 --inh-caps=-all -- "$@"; }
as_nobody "$VIPD" status --socket "$LAB_DIR/a.sock" >/dev/null || fail "a member of control_group cannot read status"
if out=$(as_nobody "$VIPD" reload --socket "$LAB_DIR/a.sock" 2>&1); then fail "a member of control_group could reload: $out"; fi
grep -q 'reload is for root' <<<"$out" || fail "unexpected refusal: $out"
ok "SIGHUP applied web's priority 140 in place; control_group reads status but may not reload"

# Two reloads at once, then one that moves the control socket.
sed -i "s|a.sock\"|a2.sock\"|" "$LAB_DIR/a.toml"
"$VIPD" reload --socket "$LAB_DIR/a.sock" >"$LAB_DIR/r1.out" 2>&1 &
r1=$!
"$VIPD" reload --socket "$LAB_DIR/a.sock" >"$LAB_DIR/r2.out" 2>&1 || true
wait "$r1" || true
grep -h 'control_socket' "$LAB_DIR"/r[12].out | grep -q 'a2.sock' || fail "no reload moved the socket: $(cat "$LAB_DIR"/r[12].out)"
wait_until 2 "status on the new socket" eval '"$VIPD" status --socket "$LAB_DIR/a2.sock" >/dev/null'
[[ -e $LAB_DIR/a.sock ]] && fail "the old control socket is still there"
for i in web db new; do is_state a2 "$i" master || fail "a left master of $i"; done # a2: the new socket
ok "two reloads back to back; the control socket moved to a2.sock"
pass
