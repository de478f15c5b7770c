#!/usr/bin/env bash
# A master whose adverts cannot leave (an output firewall drops IP protocol 112) says so at
# WARN within a few seconds and in status, keeps saying so at a bounded rate, and says when
# adverts go out again.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init sf

pair_up 100ms
t0=$(now_ms)
nft_drop_vrrp a out 100
wait_until 3 "a WARN line about adverts that cannot be sent" grep -q 'WARN.*cannot send adverts' "$LAB_DIR/a.vipd.log"
metric warn_ms $(($(now_ms) - t0))
[[ -n $(vipd_field a web send_error | grep -v '^null$') ]] || fail "status shows no send_error while sends fail"
"$VIPD" status --socket "$LAB_DIR/a.sock" | grep -q 'adverts cannot be sent' || fail "the text status does not flag the failing sends"
ok "blocked output: WARN and status within $(($(now_ms) - t0)) ms"

# The backup took over meanwhile (it hears nothing): that split is what the WARN is for.
wait_until 3 "b to take over from the silent master" is_state b web master
always_for 3 "a keeps failing to send" is_state a web master
warns=$(grep -c 'WARN.*cannot send adverts' "$LAB_DIR/a.vipd.log")
# 30 adverts failed in 3 s; the warning repeats at most every 10 s.
((warns <= 2)) || fail "$warns warnings in about 4 s: not rate-limited"
ok "$warns WARN line(s) for about 40 failed sends"

nft_flush a
wait_until 3 "a to say adverts go out again" grep -q 'adverts go out again' "$LAB_DIR/a.vipd.log"
wait_until 3 "a master alone again" roles web "$VIP4" a b
[[ $(vipd_field a web send_error) == null ]] || fail "send_error still set after sends recovered"
ok "output unblocked: recovery logged, send_error cleared, a master alone"
pass
