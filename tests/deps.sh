#!/bin/bash
# Install the Debian packages needed to build, test and demo modalfs.
# Idempotent: only missing packages are installed, and the package lists
# are refreshed only when something is missing.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	qemu-system-x86 busybox-static cpio kmod e2fsprogs xz-utils util-linux
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	bc flex bison libelf-dev
	libnl-3-dev libnl-genl-3-dev liblmdb-dev lmdb-utils libcmocka-dev libjson-c-dev
	python3 python3-flufl.lock python3-matplotlib sqlite3 fio
	nfs-kernel-server fuse3 libfuse3-dev
	clang libclang-rt-14-dev attr
	libsystemd-dev libmicrohttpd-dev python3-prometheus-client
	debhelper dh-dkms dkms lintian fakeroot
	python3-pytest python3-setuptools python3-pip chromium
	nodejs
	nbdkit nbdkit-plugin-python
)

# playwright-core for the browser test (tests/ui), pinned by its
# package-lock.json. It needs Node.js 20 or later.
npm_deps() {
	local ui
	ui=$(cd "$(dirname "${BASH_SOURCE[0]}")/ui" && pwd)
	[ -d "$ui/node_modules/playwright-core" ] && return 0
	command -v npm >/dev/null || { echo "deps.sh: npm missing; the browser test needs it" >&2; return 0; }
	echo "deps.sh: npm ci in $ui"
	(cd "$ui" && npm ci --no-audit --no-fund)
}

missing=()
for p in "${PACKAGES[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	npm_deps
	exit 0
fi

echo "deps.sh: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
npm_deps
