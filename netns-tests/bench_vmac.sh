#!/usr/bin/env bash
# Benchmark (not a test: run.sh does not pick it up). The client outage on failover, with and
# without virtual_mac: hosts a (150) and b (100) at 100 ms adverts, client c pinging the VIP
# every 10 ms; a's link is cut and the outage is the longest time c went without a reply.
# 1. ROUNDS rounds each, gratuitous ARPs delivered: min / median / max.
# 2. One round each with c dropping every gratuitous ARP for the VIP (a host or switch that
#    ignores them): without a virtual MAC c keeps sending to a's MAC until its neighbour entry
#    fails (tens of seconds); with one, nothing had to change.
#   sudo netns-tests/bench_vmac.sh [ROUNDS]
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=vmac.sh
source "$(dirname "$0")/vmac.sh"
ROUNDS=${1:-5}
lab_init bv

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
lab_host c 10.99.0.9/24


# one VMAC NAME: one failover round; prints the outage in ms.
one() {
	local vmac=$1 name=$2
	nsx c ip neigh flush all
	vmac_pair 100ms "$vmac" >/dev/null
	outage_round "$name" >/dev/null
	stop_agent a TERM
	stop_agent b TERM
	restore_link a
	echo "$OUTAGE_MS"
}

for vmac in false true; do
	: >"$LAB_DIR/outages.$vmac"
	for r in $(seq "$ROUNDS"); do one "$vmac" "v$vmac$r" >>"$LAB_DIR/outages.$vmac"; done
	echo "virtual_mac = $vmac, gratuitous ARP delivered: $(stats_ms <"$LAB_DIR/outages.$vmac")"
done

nft_table c <<EOT
table arp lab {
  chain in {
    type filter hook input priority 0; policy accept;
    arp operation request arp saddr ip $VIP4 arp daddr ip $VIP4 drop
  }
}
EOT
for vmac in false true; do
	OUTAGE_WAIT=60 one "$vmac" "drop$vmac" >"$LAB_DIR/drop.$vmac"
	echo "virtual_mac = $vmac, gratuitous ARP dropped at the client: $(cat "$LAB_DIR/drop.$vmac") ms"
done
