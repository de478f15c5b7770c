#!/usr/bin/env bash
# Builds the Debian package with cargo-deb, checks that it holds what it must, and runs lintian
# on it. Exits non-zero on a build failure, a missing file or any lintian error; lintian's
# warnings are printed and do not fail the build. Arguments go to `cargo deb`.
#
# Needs cargo-deb 3.x (`cargo install cargo-deb --locked`) and lintian (`apt-get install
# lintian`); .ci/run installs both when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
cargo deb --version >/dev/null 2>&1 || missing+=("cargo-deb (cargo install cargo-deb --locked)")
command -v lintian >/dev/null 2>&1 || missing+=("lintian (apt-get install lintian)")
command -v dpkg-deb >/dev/null 2>&1 || missing+=("dpkg-deb (apt-get install dpkg)")
if ((${#missing[@]} > 0)); then
	printf 'build-deb: missing %s\n' "${missing[@]}" >&2
	exit 1
fi

# cargo deb builds the release binary (the same build as `cargo build --release --locked`)
# and prints the package's path on its last line.
deb=$(cargo deb --locked "$@" | tail -n 1)
if [[ ! -f $deb ]]; then
	echo "build-deb: cargo deb did not name a package (got '$deb')" >&2
	exit 1
fi

# What the package promises (README.md, "Installing as a service").
contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
status=0
for path in \
	./usr/sbin/vipd \
	./usr/lib/systemd/system/vipd.service \
	./etc/vipd/vipd.toml \
	./usr/share/man/man8/vipd.8.gz \
	./usr/share/bash-completion/completions/vipd \
	./usr/share/zsh/vendor-completions/_vipd \
	./usr/share/fish/vendor_completions.d/vipd.fish \
	./usr/share/doc/vipd/README.md \
	./usr/share/doc/vipd/copyright \
	./usr/share/doc/vipd/changelog.Debian.gz \
	./usr/share/doc/vipd/examples/vipd.toml; do
	grep -qxF "$path" <<<"$contents" || { echo "build-deb: $deb lacks $path" >&2; status=1; }
done
if [[ $(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles) != /etc/vipd/vipd.toml ]]; then
	echo "build-deb: /etc/vipd/vipd.toml is not the package's one conffile" >&2
	status=1
fi
((status == 0)) || exit 1

echo "build-deb: $deb ($(stat -c %s "$deb") bytes)"
echo "build-deb: lintian:"
# --fail-on error: errors fail the build, warnings are only shown. lintian warns that it
# runs as root (as CI does); that line is dropped.
rc=0
report=$(lintian --fail-on error "$deb" 2>&1) || rc=$?
grep -v 'running with root privileges is not recommended' <<<"$report" || true
if ((rc != 0)); then
	echo "build-deb: lintian failed (exit $rc)" >&2
	exit 1
fi
echo "build-deb: lintian found no errors"
