#!/usr/bin/env bash
# Runs the network-namespace tests (netns-tests/t_*.sh) one after the other.
#   sudo netns-tests/run.sh [FILTER...]      only tests whose name contains one of FILTER
# Environment: VIPD (binary, default target/release/vipd), NETNS_TEST_TIMEOUT (s, default 180).
set -euo pipefail
export LC_ALL=C

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$dir/.." && pwd)
export VIPD=${VIPD:-$repo/target/release/vipd}
timeout_s=${NETNS_TEST_TIMEOUT:-180}

if [[ $(id -u) != 0 ]]; then
	echo "run.sh: the netns tests create network namespaces and must run as root (sudo $0)" >&2
	exit 2
fi
if [[ ! -x $VIPD ]]; then
	echo "run.sh: no vipd binary at $VIPD: run 'cargo build --release' in $repo, or set VIPD=/path/to/vipd" >&2
	exit 2
fi
missing=()
for tool in ip tcpdump tshark nft keepalived jq timeout promtool curl; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
	echo "run.sh: missing tools: ${missing[*]} (apt-get install iproute2 tcpdump tshark nftables keepalived jq prometheus curl)" >&2
	exit 2
fi

out_dir=$(mktemp -d /tmp/vipd-netns-run.XXXXXX)
echo "netns tests: vipd=$VIPD (built $(date -r "$VIPD" '+%F %T'))"
passed=0 failed=0
for t in "$dir"/t_*.sh; do
	name=$(basename "$t" .sh)
	if (($# > 0)); then
		want=0
		for f in "$@"; do [[ $name == *"$f"* ]] && want=1; done
		((want)) || continue
	fi
	out="$out_dir/$name.out"
	start=${EPOCHREALTIME/./}
	rc=0
	timeout -k 10 "$timeout_s" bash "$t" >"$out" 2>&1 </dev/null || rc=$?
	secs=$(((${EPOCHREALTIME/./} - start) / 100000))
	metrics=$(sed -n 's/^metric: //p' "$out" | paste -sd' ' -)
	if ((rc == 0)); then
		passed=$((passed + 1))
		printf 'PASS %-20s %4d.%ds  %s\n' "$name" $((secs / 10)) $((secs % 10)) "$metrics"
	else
		failed=$((failed + 1))
		why=""
		((rc == 124)) && why="(timed out after ${timeout_s}s)"
		printf 'FAIL %-20s %4d.%ds  %s %s\n' "$name" $((secs / 10)) $((secs % 10)) "$metrics" "$why"
		tail -n 40 "$out" | sed 's/^/    | /'
	fi
done
if ((passed + failed == 0)); then
	echo "run.sh: no test matches: $*" >&2
	exit 2
fi
if ((failed > 0)); then
	echo "full outputs of the tests: $out_dir (failed tests keep their lab files under /tmp/vipd-netns-*)"
else
	rm -rf "$out_dir"
fi
echo "netns: $passed passed, $failed failed"
((failed == 0))
