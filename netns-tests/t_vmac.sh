#!/usr/bin/env bash
# virtual_mac = true: the VIP lives on macvlan vipd4.51 (00:00:5e:00:01:33), up only on the
# master; adverts and gratuitous ARPs leave from the virtual MAC; a client pinging the VIP keeps
# the virtual MAC in its neighbour table across a failover and the failback, and resumes within
# the detection time; kill -9 and a restart leave one macvlan and one VIP; a macvlan deleted
# under the master is made again; SIGTERM removes it and restores the parent's sysctls.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
lab_init vm

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.9/24
before_ignore=$(sysctl_of a ipv4/conf/eth0/arp_ignore)
before_announce=$(sysctl_of a ipv4/conf/eth0/arp_announce)

capture_start cap
vmac_pair 100ms true
wait_until 3 "$VIP4 on a's $VMAC_IF only" vip_on_vmac_of a
not has_addr_on b "$VMAC_IF" "$VIP4" || fail "backup b has $VIP4 on its macvlan"
has_link b "$VMAC_IF" || fail "backup b has no $VMAC_IF"
not link_up b "$VMAC_IF" || fail "backup b's $VMAC_IF is up: $(link_of b "$VMAC_IF")"
link_of a "$VMAC_IF" | grep -q "link/ether $VMAC4 " || fail "a's $VMAC_IF: $(link_of a "$VMAC_IF")"
link_of a "$VMAC_IF" | grep -q "$VMAC_IF@eth0" || fail "a's $VMAC_IF is not on eth0: $(link_of a "$VMAC_IF")"
ip -n "$(ns a)" -d -o link show dev "$VMAC_IF" | grep -q 'macvlan mode bridge' || fail "a's $VMAC_IF is not a bridge-mode macvlan"
[[ $(sysctl_of a ipv4/conf/eth0/arp_ignore) == 1 && $(sysctl_of a ipv4/conf/eth0/arp_announce) == 2 ]] ||
	fail "a's eth0: arp_ignore $(sysctl_of a ipv4/conf/eth0/arp_ignore), arp_announce $(sysctl_of a ipv4/conf/eth0/arp_announce)"
[[ $(sysctl_of a "ipv4/conf/$VMAC_IF/arp_ignore") == 1 && $(sysctl_of a "ipv6/conf/$VMAC_IF/disable_ipv6") == 1 ]] ||
	fail "a's $VMAC_IF: arp_ignore or disable_ipv6 not set"
ok "a master with $VIP4 on $VMAC_IF ($VMAC4, bridge mode on eth0, up); b's down and empty; eth0 arp_ignore 1, arp_announce 2"

# The client learns the virtual MAC, and keeps it.
nsx c ping -n -c 1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4"
neigh_is c "$VIP4" "$VMAC4" || fail "c's neighbour entry for $VIP4 is '$(neigh_mac c "$VIP4")', not $VMAC4"
wait_until 3 "adverts from a with the virtual MAC" cap_at_least 3 "$ADV && ip.src == 10.99.0.1 && eth.src == $VMAC4 && ip.ttl == 255 && ip.dsfield == 0xc0"
wait_until 3 "a gratuitous ARP for $VIP4 from $VMAC4" cap_at_least 1 \
	"arp.opcode == 1 && arp.src.proto_ipv4 == $VIP4 && arp.dst.proto_ipv4 == $VIP4 && eth.src == $VMAC4 && arp.src.hw_mac == $VMAC4"
n=$(cap_count "$ADV && eth.src == ${LAB_MAC[a]}")
((n == 0)) || fail "$n adverts left a with its own MAC ${LAB_MAC[a]}"
ok "c resolves $VIP4 to $VMAC4; adverts (TTL 255, TOS 0xc0) and gratuitous ARPs come from $VMAC4 only"

# Failover: c keeps the virtual MAC and resumes within the detection time.
neigh_watch_start c "$VIP4" fo
outage_round vmac
bound=$(takeover_bound_ms 100 100)
metric vmac_outage_ms "$OUTAGE_MS"
((OUTAGE_MS < bound)) || fail "c went $OUTAGE_MS ms without a reply (bound $bound ms)"
wait_until 3 "$VIP4 on b's $VMAC_IF" vip_on_vmac_of b
wait_until 3 "a (no carrier) to drop $VIP4 and take its macvlan down" a_released
ok "cut a: b took over, c answered again after $OUTAGE_MS ms (bound $bound ms)"

# Failback: a preempts; the entry never changed.
restore_link a
wait_until 5 "a to take $VIP4 back" vip_on_vmac_of a
wait_until 3 "b to release $VIP4" not has_addr_on b "$VMAC_IF" "$VIP4"
nsx c ping -n -c 3 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4 after the failback"
neigh_watch_stop
seen=$(neigh_seen fo)
[[ $seen == "$VMAC4" ]] || fail "c's neighbour entry for $VIP4 was $seen during failover and failback"
ok "failback to a; c's entry for $VIP4 was $VMAC4 throughout"
capture_stop

# kill -9 and restart: one macvlan, one VIP, on the macvlan.
stop_agent a KILL
has_link a "$VMAC_IF" || fail "the killed agent's macvlan is gone (the test needs the leftover)"
wait_until 3 "b to take over from the killed a" is_state b web master
start_vipd a "$LAB_DIR/a.toml"
wait_until 5 "restarted a to be master again" vip_on_vmac_of a
grep -q 'removing a virtual address left by a previous run' "$LAB_DIR/a.vipd.log" || fail "a did not report the leftover on its old macvlan"
n=$(ip -n "$(ns a)" -o link show | grep -c "$VMAC_IF@" || true)
((n == 1)) || fail "$n interfaces named $VMAC_IF on a"
(($(addr_count a "$VIP4") == 1)) || fail "$VIP4 is on $(addr_count a "$VIP4") interfaces of a"
wait_until 3 "b back to backup without $VIP4" not has_addr_on b "$VMAC_IF" "$VIP4"
ok "kill -9 and restart: the old macvlan replaced, one $VMAC_IF and one $VIP4 on a"

# Deleted under the master: made again, with the VIP, and logged.
ip -n "$(ns a)" link del "$VMAC_IF"
wait_until 3 "a to make $VMAC_IF again with $VIP4" vip_on_vmac_of a
grep -q 'virtual MAC interface was deleted under vipd' "$LAB_DIR/a.vipd.log" || fail "a did not log the deleted macvlan"
is_state a web master || fail "a is $(vipd_state a web) after its macvlan was deleted"
nsx c ping -n -c 3 -i 0.1 -W 1 "$VIP4" >/dev/null || fail "c cannot ping $VIP4 after the macvlan was made again"
ok "macvlan deleted under the master: made again with $VIP4, logged, c still reaches it"

# SIGTERM: the macvlans go, the parent's sysctls come back.
stop_agent a TERM
stop_agent b TERM
not has_link a "$VMAC_IF" || fail "a's $VMAC_IF outlived the agent"
not has_link b "$VMAC_IF" || fail "b's $VMAC_IF outlived the agent"
[[ $(sysctl_of a ipv4/conf/eth0/arp_ignore) == "$before_ignore" && $(sysctl_of a ipv4/conf/eth0/arp_announce) == "$before_announce" ]] ||
	fail "a's eth0 sysctls not restored"
ok "SIGTERM: macvlans removed, eth0 arp_ignore/arp_announce back to $before_ignore/$before_announce"
pass

