#!/usr/bin/env bash
# Checks never run with the agent's capabilities. a runs its check as script_user "nobody",
# b as its own user (root) with every capability dropped: each check writes its own
# /proc/self/status lines, and every capability set is empty; the ids are as configured; no
# descriptor of the agent leaks into the check.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init su

lab_host a 10.99.0.1/24
lab_host b 10.99.0.2/24
chmod 755 "$LAB_DIR"
mkdir -m 1777 "$LAB_DIR/out"
check_conf() { # HOST [SCRIPT_USER]
	printf '[global]\nrouter_id = "%s"\ncontrol_socket = "%s/%s.sock"\n' "$1" "$LAB_DIR" "$1"
	[[ -z ${2:-} ]] || printf 'script_user = "%s"\n' "$2"
	printf '\n[[track_script]]\nname = "caps"\ninterval = "200ms"\n'
	printf 'command = ["/bin/sh", "-c", "grep -E \\"^(Cap|Uid|Gid|Groups)\\" /proc/self/status > %s/%s.status; ls /proc/self/fd > %s/%s.fds"]\n\n' \
		"$LAB_DIR/out" "$1" "$LAB_DIR/out" "$1"
	vip_instance 150 100ms 'track = [{ script = "caps", weight = -1 }]'
}
check_conf a nobody >"$LAB_DIR/a.toml"
check_conf b >"$LAB_DIR/b.toml"
start_vipd a "$LAB_DIR/a.toml"
start_vipd b "$LAB_DIR/b.toml"
for h in a b; do
	wait_until 5 "$h's check to write its status" test -s "$LAB_DIR/out/$h.status"
	wait_until 5 "$h's check to list its descriptors" test -s "$LAB_DIR/out/$h.fds"
done
for h in a b; do
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		grep -q "^$set:[[:space:]]*0000000000000000$" "$LAB_DIR/out/$h.status" ||
			fail "$h's check has $(grep "^$set" "$LAB_DIR/out/$h.status")"
	done
	# 0 1 2 and the one ls opened to list them.
	fds=$(tr '\n' ' ' <"$LAB_DIR/out/$h.fds")
	[[ $fds == "0 1 2 3 " ]] || fail "$h's check inherited descriptors: $fds"
done
grep -qE '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' "$LAB_DIR/out/a.status" ||
	fail "a's check is not nobody: $(grep Uid "$LAB_DIR/out/a.status")"
grep -qE '^Uid:[[:space:]]+0[[:space:]]' "$LAB_DIR/out/b.status" || fail "b's check is not root: $(grep Uid "$LAB_DIR/out/b.status")"
ok "checks run with no capabilities in any set, no inherited descriptors; a as nobody, b as root"
pass
