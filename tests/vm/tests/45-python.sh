#!/bin/bash
# The modalfs Python package (python/, issue 15) in the VM: its wheel is
# built by the in-tree build backend (what `pip install ./python` runs;
# pip itself takes over a minute to start under TCG, so the pip test runs
# on the host only), then the pytest suite runs against that copy and
# a live daemon with the module loaded: the protocol codec and version
# check, volumes and files without mounting, specific exceptions, an
# App stopped by the daemon after SIGKILL of its process, and functions
# run with .remote/.map in private mount namespaces -- the shelve cache
# example (8 parallel calls over overlapping keys, each key computed
# once), the checkpoint example and a .map() over 8 keys.
. "$(dirname "$0")/../../lib.sh"

# Tests in python/tests, all of which must pass (none skipped).
PYTEST_TESTS=31
SITE=$TEST_TMP/site

require_root
plan 13
tstep() { step "$* (at ${SECONDS}s)"; }

leftover_mounts() {
	awk '$3 == "modalfs"' /proc/mounts
}

tstep "install the wheel of the in-tree build backend"
check "build the wheel and unpack it into $SITE" "$PYTHON" - "$SITE" <<'PY' || finish
import sys, tempfile, zipfile
sys.path.insert(0, "python/_build")
import modalfs_build
with tempfile.TemporaryDirectory() as d:
    whl = modalfs_build.build_wheel(d)
    zipfile.ZipFile(d + "/" + whl).extractall(sys.argv[1])
PY
check "the installed copy imports" \
	env PYTHONPATH="$SITE" "$PYTHON" -c 'import modalfs, sys; assert modalfs.__file__.startswith(sys.argv[1])' "$SITE"

tstep "load the module, start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish

tstep "pytest python/tests"
out=$(cd python && env PYTHONPATH="$SITE" MODALFS_TEST_INSTALLED=1 \
	MODALFS_REQUIRE_DAEMON=1 MODALFS_REQUIRE_MOUNT=1 \
	"$PYTHON" -m pytest -p no:cacheprovider -q -rfEs tests \
	--deselect tests/test_packaging.py::test_pip_install 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    | /'
summary=$(printf '%s\n' "$out" | tail -n 1)
expect_eq "pytest exits 0" 0 "$rc"
expect_match "pytest: $PYTEST_TESTS passed, nothing skipped or failed" \
	"^=* ?$PYTEST_TESTS passed, 1 deselected in [0-9.]+s" "$summary"

tstep "nothing left behind"
expect_eq "no modalfs mount leaked out of the functions' namespaces" "" "$(leftover_mounts)"
expect_eq "no volume of the tests is left" "" \
	"$("$MODALFSCTL" list --json | "$PYTHON" -c 'import json, sys; print(" ".join(v["name"] for v in json.load(sys.stdin) if v["name"].startswith("pytest-") or v["kind"] == "ephemeral"))')"

check_stop_and_unload
check_dmesg_clean
finish
