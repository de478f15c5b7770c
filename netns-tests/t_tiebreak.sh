#!/usr/bin/env bash
# Equal priorities: two masters (each one's adverts dropped by nftables) that hear each other
# again must resolve on the primary address: the higher one (10.99.0.2) stays master.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init tb

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
vip_instance 100 100ms | vipd_conf a
vip_instance 100 100ms | vipd_conf b
nft_drop_vrrp a out 100
nft_drop_vrrp b out 100
start_vipd a "$LAB_DIR/a.toml"
start_vipd b "$LAB_DIR/b.toml"
both_master() { is_state a web master && is_state b web master && [[ $(holders "$VIP4" a b) == "a b" ]]; }
wait_until 5 "a and b, deaf to each other, to both become master" both_master
ok "partitioned: a and b both master with $VIP4"

nft_flush a
nft_flush b
wait_until 5 "b (equal priority, higher address) to stay the only master" roles web "$VIP4" b a
always_for 1 "b master alone with $VIP4, a backup" roles web "$VIP4" b a
ok "healed: a (10.99.0.1) yielded to b (10.99.0.2)"
pass
