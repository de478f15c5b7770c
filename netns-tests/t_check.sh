#!/usr/bin/env bash
# `vipd check`: exit 1 naming file:line:column and the key for bad files; exit 0 for the
# shipped examples (conf/*.toml) and for every configuration these tests use.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init_dir ck
[[ -x $VIPD ]] || fail "vipd binary not found at $VIPD"

# expect_bad NAME LINE KEY < FILE: check fails (exit 1), naming NAME:LINE:<col> and KEY.
expect_bad() {
	local f="$LAB_DIR/$1" rc=0 out
	cat >"$f"
	out=$("$VIPD" check -c "$f" 2>&1) || rc=$?
	((rc == 1)) || fail "vipd check $1 exited $rc, expected 1; output: $out"
	grep -qE "$1:$2:[0-9]+" <<<"$out" || fail "vipd check $1: no '$1:$2:<column>' in: $out"
	grep -qF "$3" <<<"$out" || fail "vipd check $1: the key '$3' is not named in: $out"
	ok "$1: exit 1, names $1:$2:<col> and '$3'"
}

head='[global]
control_socket = "/tmp/vipd-check.sock"

[[instance]]
name = "web"
interface = "eth0"
vrid = 51'

expect_bad typo.toml 8 priorty <<EOF
$head
priorty = 150
virtual_addresses = ["10.99.0.50/24"]
EOF
expect_bad range.toml 7 vrid <<EOF
${head/vrid = 51/vrid = 300}
virtual_addresses = ["10.99.0.50/24"]
EOF
expect_bad interval.toml 9 advert_interval <<EOF
$head
version = 3
advert_interval = "15ms"
virtual_addresses = ["10.99.0.50/24"]
EOF
expect_bad type.toml 8 priority <<EOF
$head
priority = "high"
virtual_addresses = ["10.99.0.50/24"]
EOF

n=0
for f in "$REPO"/conf/*.toml; do
	[[ -e $f ]] || fail "no conf/*.toml to check"
	out=$("$VIPD" check -c "$f" 2>&1) || fail "vipd check $f failed: $out"
	n=$((n + 1))
done
ok "$n conf/*.toml files pass"

# The configurations the other tests use.
vip_instance 150 100ms | vipd_conf t1
vip_instance 100 1s 'version = 2' 'auth_pass = "s3cret"' | vipd_conf t2
vip_instance 100 100ms 'unicast_peers = ["10.99.0.1"]' 'preempt = false' | vipd_conf t3
printf '[[instance]]\nname = "web6"\ninterface = "eth0"\nvrid = 52\nversion = 3\npriority = 150\nadvert_interval = "100ms"\nvirtual_addresses = ["%s/64"]\n' "$VIP6" | vipd_conf t4
for h in t1 t2 t3 t4; do
	out=$("$VIPD" check -c "$LAB_DIR/$h.toml" 2>&1) || fail "vipd check rejects a test configuration ($h): $out"
done
ok "the test configurations pass"
pass
