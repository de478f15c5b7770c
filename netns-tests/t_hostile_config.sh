#!/usr/bin/env bash
# Hostile configuration files: `vipd run` (and `vipd check`) on binary garbage, text noise, an
# empty file, huge numbers, deep nesting, wrong types, control characters, a 5 MB value and a
# 100 000-entry list must exit 1 with a message naming the file, line:column and the key, in
# bounded time, and never panic or overflow the stack. Run inside a namespace, so nothing can
# touch the machine's own interfaces even if a file were accepted.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
lab_init hc
lab_host a 10.99.0.1/24

# reject NAME PLACE KEY [SECONDS]: run and check on $LAB_DIR/NAME exit 1 within SECONDS
# (default 5) naming NAME, then PLACE (a regex after "NAME:", e.g. 3:[0-9]+; "-" for none) and KEY.
# A file that fails is added to BAD (every file is tried; the test fails at the end).
BAD=()
reject() {
	local name=$1 place=$2 key=$3 secs=${4:-5} f="$LAB_DIR/$1" cmd rc out t0 ms why="" where=$1
	[[ $place == - ]] || where+=":$place"
	for cmd in run check; do
		rc=0 t0=$(now_ms)
		out=$(ip netns exec "$(ns a)" timeout -k 2 60 "$VIPD" "$cmd" -c "$f" 2>&1) || rc=$?
		ms=$(($(now_ms) - t0))
		echo "$out" >"$f.$cmd.out"
		if grep -qE 'panicked|overflowed its stack|RUST_BACKTRACE|fatal runtime error' <<<"$out"; then
			why="crashed"
		elif ((rc != 1)); then
			why="exited $rc, expected 1"
		elif ((ms > secs * 1000)); then
			why="took $ms ms to reject it (bound ${secs}s; $(wc -l <<<"$out") lines of output)"
		elif ! grep -qF "$name" <<<"$out"; then
			why="does not name the file"
		elif [[ $place != - ]] && ! grep -qE "$where" <<<"$out"; then
			why="names no '$where'"
		elif [[ -n $key ]] && ! grep -qF "$key" <<<"$out"; then
			why="does not name the key '$key'"
		fi
		if [[ -n $why ]]; then
			echo "  BAD: vipd $cmd $name $why; output: $(head -c 300 <<<"$out")" >&2
			BAD+=("$name")
			return 0
		fi
	done
	# shellcheck disable=SC2016 # the quotes are inside double quotes: $key expands
	ok "$name: exit 1 in $ms ms, names $where${key:+ and '$key'}"
}

inst='[[instance]]
name = "web"
interface = "eth0"
vrid = 51'
vips='virtual_addresses = ["10.99.0.50/24"]'
py() { python3 -c "$1"; }

py 'import random, sys; r = random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(4096)))' >"$LAB_DIR/garbage.bin"
reject garbage.bin - ""
py 'import random; r = random.Random(7); print("".join(chr(r.randrange(32, 127)) if r.random() > 0.05 else "\n" for _ in range(4000)))' >"$LAB_DIR/noise.toml"
reject noise.toml '[0-9]+:[0-9]+' ""
: >"$LAB_DIR/empty.toml"
reject empty.toml - instance
printf '%s\n' "$inst" "$vips" | sed 's/^vrid = 51$/vrid = 99999999999999999999999999/' >"$LAB_DIR/hugeint.toml"
reject hugeint.toml '4:[0-9]+' vrid
printf '%s\npriority = 18446744073709551617\n%s\n' "$inst" "$vips" >"$LAB_DIR/hugeprio.toml"
reject hugeprio.toml '5:[0-9]+' priority
printf '%s\npriority = -1\n%s\n' "$inst" "$vips" >"$LAB_DIR/negative.toml"
reject negative.toml '5:[0-9]+' priority
printf '%s\nadvert_interval = "99999999999999999999999h"\n%s\n' "$inst" "$vips" >"$LAB_DIR/hugedur.toml"
reject hugedur.toml '5:[0-9]+' advert_interval
printf '%s\nadvert_interval = "40951ms"\n%s\n' "$inst" "$vips" >"$LAB_DIR/interval.toml"
reject interval.toml '5:[0-9]+' advert_interval
py 'print("x = " + "[" * 100000 + "]" * 100000)' >"$LAB_DIR/deeparray.toml"
reject deeparray.toml '1:[0-9]+' x
py 'print("x = " + "{a = " * 100000 + "1" + "}" * 100000)' >"$LAB_DIR/deeptable.toml"
reject deeptable.toml '1:[0-9]+' x
py 'print("[" + ".".join(["a"] * 20000) + "]")' >"$LAB_DIR/deepkey.toml"
reject deepkey.toml '1:[0-9]+' ""
printf '[global]\ncontrol_socket = 5\n%s\n%s\n' "$inst" "$vips" >"$LAB_DIR/types1.toml"
reject types1.toml '2:[0-9]+' control_socket
printf 'instance = 5\n' >"$LAB_DIR/types2.toml"
reject types2.toml '1:[0-9]+' instance
printf '[instance]\nname = "web"\ninterface = "eth0"\nvrid = 51\n%s\n' "$vips" >"$LAB_DIR/types3.toml"
reject types3.toml '1:[0-9]+' instance
printf '%s\nvirtual_addresses = "10.99.0.50/24"\n' "$inst" >"$LAB_DIR/types4.toml"
reject types4.toml '5:[0-9]+' virtual_addresses
printf '%s\npreempt = "yes"\n%s\n' "$inst" "$vips" >"$LAB_DIR/types5.toml"
reject types5.toml '5:[0-9]+' preempt
printf '%s\npriority = 1.5e400\n%s\n' "$inst" "$vips" >"$LAB_DIR/float.toml"
reject float.toml '5:[0-9]+' priority
printf '%s\npriority = 100\npriority = 200\n%s\n' "$inst" "$vips" >"$LAB_DIR/dupkey.toml"
reject dupkey.toml '6:[0-9]+' priority
printf '[[instance]]\nname = "web\\nstate change instance=x from=backup to=master"\ninterface = "eth0"\nvrid = 51\n%s\n' "$vips" >"$LAB_DIR/newline.toml"
reject newline.toml '2:[0-9]+' name
printf '[[instance]]\nname = "web"\ninterface = "eth0\\u0000"\nvrid = 51\n%s\n' "$vips" >"$LAB_DIR/nul.toml"
reject nul.toml '3:[0-9]+' interface
py 'print("[[instance]]\nname = \"" + "w" * 5000000 + "\"\ninterface = \"eth0\"\nvrid = 51\nvirtual_addresses = [\"10.99.0.50/24\"]")' >"$LAB_DIR/longvalue.toml"
reject longvalue.toml '2:[0-9]+' name
# 100 000 addresses, none of them valid: rejecting this must not take quadratic time.
py 'print("[[instance]]\nname = \"web\"\ninterface = \"eth0\"\nvrid = 51\nvirtual_addresses = [" + ",".join("\"10.99.%d.%d/24\"" % (256 + i // 250, i % 250) for i in range(100000)) + "]")' >"$LAB_DIR/manybad.toml"
reject manybad.toml '5:[0-9]+' virtual_addresses 5
((${#BAD[@]} == 0)) || fail "${#BAD[@]} hostile file(s) not rejected as they should be: ${BAD[*]}"
pass
