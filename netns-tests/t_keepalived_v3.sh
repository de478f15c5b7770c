#!/usr/bin/env bash
# Interop with keepalived 2.2.7, VRRPv3 over IPv4 at 100 ms: each side as master and as
# backup, failover both ways, and keepalived rejects none of vipd's packets.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=interop.sh
source "$(dirname "$0")/interop.sh"
lab_init k3
interop 3 100ms 0.1 100
pass
