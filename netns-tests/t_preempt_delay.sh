#!/usr/bin/env bash
# preempt_delay holds a recovered master back: a (150, preempt_delay 2s) restarted after a
# kill -9 stays backup behind b (100) for the delay, then preempts.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init pd

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
vip_instance 150 100ms 'preempt_delay = "2s"' | vipd_conf a
vip_instance 100 100ms | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "a master, b backup" roles web "$VIP4" a b

stop_agent a KILL
nsx a ip addr del "$VIP4/24" dev eth0 # what a reboot would do
wait_until 3 "b to take over" roles web "$VIP4" b
t0=$(now_ms)
start_vipd a "$LAB_DIR/a.toml"
always_for 1.7 "b keeps the VIP while a's preempt_delay runs" roles web "$VIP4" b a
wait_until 3 "a to preempt once its delay is over" roles web "$VIP4" a b
waited=$(($(now_ms) - t0))
metric preempt_after_ms "$waited"
# The delay (2 s) plus a master-down interval (360 ms), and start-up.
((waited >= 2000)) || fail "a preempted after $waited ms, before its 2 s delay"
ok "a restarted: stayed backup for its delay, preempted after $waited ms"
pass
