#!/bin/bash
# make deb: build the Debian packages modalfs and modalfs-dkms from the
# files git knows (committed or not), in a scratch copy under $BUILD/deb,
# then run lintian on them. The .deb files land in $BUILD/deb.
#   DEB_BUILD_OPTIONS=nocheck make deb   skips the unit tests
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${BUILD:-$top/build}/deb
src=$out/modalfs

for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null || {
		echo "make-deb.sh: $t is missing; run 'make deps'" >&2
		exit 1
	}
done
rm -rf "$out"
mkdir -p "$src"
# A copy, so that the build never leaves objects in the work tree.
git -C "$top" ls-files -z --cached --others --exclude-standard |
	(cd "$top" && xargs -0 cp --parents -t "$src")
(cd "$src" && dpkg-buildpackage -us -uc -b)
# Lintian tags that are not fixed are listed with their reasons in
# debian/*.lintian-overrides; any other warning or error fails the build.
lintian --fail-on warning,error "$out"/*.changes
ls -l "$out"/*.deb
