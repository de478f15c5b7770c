#!/usr/bin/env bash
# The backup race at 10 ms adverts: a (250) master, b (200) and c (100) backups. Their
# master-down intervals are 32.187 and 36.093 ms; in whole centiseconds (the old arithmetic)
# both skews were 0 and the two fired together. Five times: a's adverts are dropped as they
# leave a (so b and c hear the same last one; cutting a's switch port could deliver that one
# to b and not to c, which gives c a 10 ms head start), b takes over, c never adds the VIP nor
# becomes master; the drop ends and b yields to a. (The tighter 150/120/100 race, 0.78 ms
# apart, is in the benchmark: on a loaded 2-core machine a test of it would measure the
# scheduler.)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init t3f
ROUNDS=5

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.3/24
vip_instance 250 10ms | vipd_conf a
vip_instance 200 10ms | vipd_conf b
vip_instance 100 10ms | vipd_conf c
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (250) to become master" is_state a web master
start_vipd b "$LAB_DIR/b.toml"
start_vipd c "$LAB_DIR/c.toml"
wait_until 5 "b (200) and c (100) to be backups" roles web "$VIP4" a b c
monitor_start c
t0=$(now_ms)
for r in $(seq "$ROUNDS"); do
	always_for 0.3 "round $r: a master alone with $VIP4" roles web "$VIP4" a b c
	nft_drop_vrrp a out 100
	wait_until 3 "round $r: b (200) to take over" is_state b web master
	wait_until 3 "round $r: $VIP4 on b (a, unaware, keeps it too)" has_addr b "$VIP4"
	nft_flush a
	wait_until 5 "round $r: b to yield to a (250)" roles web "$VIP4" a b c
done
not has_addr_event c "$VIP4" add "$t0" || fail "c (100) added $VIP4 in one of the $ROUNDS takeovers"
not grep -q "to=master" "$LAB_DIR/c.vipd.log" || fail "c (100) became master: $(grep "to=master" "$LAB_DIR/c.vipd.log")"
ok "$ROUNDS takeovers at 10 ms adverts: b (200) each time, c (100) never held $VIP4"
pass
