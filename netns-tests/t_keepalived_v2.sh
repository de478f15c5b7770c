#!/usr/bin/env bash
# Interop with keepalived 2.2.7, VRRPv2 with auth_type PASS at 1 s: each side as master and as
# backup, failover both ways, and keepalived rejects none of vipd's packets.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=interop.sh
source "$(dirname "$0")/interop.sh"
lab_init k2
interop 2 1s 1 1000 s3cret
pass
