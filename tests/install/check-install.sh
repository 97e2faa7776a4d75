#!/bin/bash
# make check-install: boot the test VM with systemd as PID 1 and run
# tests/install/guest-install.sh in it against the packages in
# $BUILD/deb (make deb builds them; DEB_DIR=DIR tests others). Slow (DKMS
# compiles the module under TCG), so not part of make check. The console
# log and the TAP results go to $BUILD/check-install/.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
export DEB_DIR=${DEB_DIR:-$BUILD/deb}
out=$BUILD/check-install

for p in modalfs-dkms_*_all modalfs_*_amd64 python3-modalfs_*_all; do
	compgen -G "$DEB_DIR/$p.deb" >/dev/null || {
		echo "check-install: no $p.deb in $DEB_DIR (run make deb)" >&2
		exit 1
	}
done
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
VM_ENV="DEB_DIR ${VM_ENV:-}" "$top/tests/vm/vm.sh" --systemd \
	--timeout "${INSTALL_TIMEOUT:-2400}" --log "$out/console.log" --out "$out" \
	-- tests/install/guest-install.sh
rc=$?
echo "check-install: exit status $rc after $(($(date +%s) - start)) s; console log $out/console.log"
exit $rc
