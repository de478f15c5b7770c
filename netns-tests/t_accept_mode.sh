#!/usr/bin/env bash
# accept_mode = false: the master (not the owner) drops a client's ping to the VIP while ARP
# still resolves it and the host's own address still answers; the rules live in vipd's table
# `inet vipd` only while master, follow a failover, are removed at exit, and a crashed run's
# table is removed at start. With the default (true) the ping is answered.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
lab_init am

lab_host a 10.99.0.1/24 fd00:99::1/64
lab_host b 10.99.0.2/24 fd00:99::2/64
lab_host c 10.99.0.9/24 fd00:99::9/64
vip_held_by_a() { is_state a web master && has_addr a "$VIP4"; }
leftover_gone() { ! nsx a nft list table inet vipd 2>/dev/null | grep -q 'ip daddr 10.99.0.1 drop'; }
vip6_held_by_a() { is_state a web6 master && has_addr a "$VIP6"; }
has_table() { nsx "$1" nft list table inet vipd >/dev/null 2>&1; }
drops() { nsx "$1" nft -j list table inet vipd | jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add // 0'; }

# A crashed run's table (with a rule that would drop everything to the VIP) on a.
nft_table a <<EOT
table inet vipd {
  chain accept_mode {
    type filter hook input priority 0; policy accept;
    ip daddr 10.99.0.1 drop
  }
}
EOT
vip_instance 150 100ms "accept_mode = false" | vipd_conf a
vip_instance 100 100ms "accept_mode = false" | vipd_conf b
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a (150) to become master" is_state a web master
wait_until 3 "a's leftover table to be replaced" leftover_gone
start_vipd b "$LAB_DIR/b.toml"
wait_until 5 "a master, b backup" roles web "$VIP4" a b
has_table a || fail "master a has no table inet vipd"
not has_table b || fail "backup b has a table inet vipd"
ok "a master with its rules in table inet vipd (a crashed run's table replaced); b backup without"

not nsx c ping -n -c 3 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c's ping to $VIP4 was answered with accept_mode = false"
neigh_is c "$VIP4" "${LAB_MAC[a]}" || fail "c did not resolve $VIP4 to a (${LAB_MAC[a]}): '$(neigh_mac c "$VIP4")'"
nsx c ping -n -c 1 -W 1 10.99.0.1 >/dev/null || fail "c cannot ping a's own address"
n=$(drops a)
((n >= 3)) || fail "a's drop counters show $n packets"
metric accept_mode_drops "$n"
ok "c's pings to $VIP4 dropped ($n counted) while ARP resolves it to a; a's own address answers"

cut_link a
wait_until 5 "b to take over" is_state b web master
wait_until 3 "b's table" has_table b
wait_until 3 "a (fault) to remove its table" not has_table a
not nsx c ping -n -c 2 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c's ping to $VIP4 was answered by b"
ok "failover: b's table drops the pings, a's table is gone"

restore_link a
wait_until 5 "a to take the VIP back" roles web "$VIP4" a b
wait_until 3 "b to remove its table" not has_table b
stop_agent a TERM
not has_table a || fail "a's table outlived the agent"
stop_agent b TERM
ok "failback, then SIGTERM: no table left"

# IPv6: the ping is dropped, neighbour discovery still resolves the VIP.
vipd_conf a <<EOT
[[instance]]
name = "web6"
interface = "eth0"
vrid = 52
priority = 150
advert_interval = "100ms"
virtual_addresses = ["$VIP6/64"]
accept_mode = false
EOT
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a master with $VIP6" vip6_held_by_a
nsx a nft list table inet vipd >"$LAB_DIR/a.table6"
not nsx c ping -6 -n -c 3 -i 0.1 -W 1 "$VIP6" >/dev/null || fail "c's ping to $VIP6 was answered with accept_mode = false"
neigh_is c "$VIP6" "${LAB_MAC[a]}" || fail "c did not resolve $VIP6 to a (${LAB_MAC[a]}): '$(neigh_mac c "$VIP6")'"
nsx c ping -6 -n -c 1 -W 1 fd00:99::1 >/dev/null || fail "c cannot ping a's own IPv6 address"
ok "IPv6: c's pings to $VIP6 dropped while neighbour discovery resolves it to a"
stop_agent a TERM
not has_table a || fail "a's table outlived the agent"

# The default (accept_mode = true): the VIP answers, and no table is made.
vip_instance 150 100ms | vipd_conf a
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "a master with $VIP4" vip_held_by_a
nsx c ping -n -c 2 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4 with the default accept_mode"
not has_table a || fail "a made a table with accept_mode = true"
ok "default accept_mode: c's ping to $VIP4 is answered, no table"
pass
