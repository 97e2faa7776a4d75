#!/bin/bash
# Last script of the shared boot: on a kernel with kmemleak (the debug
# kernel of make check-debug), everything the earlier scripts did -- module
# loaded, used and unloaded many times -- must leave no unreferenced
# object. Two scans, as kmemleak only reports an object that stayed
# unreferenced across a full scan. Without kmemleak (make check's Debian
# kernel) it records one skip.
. "$(dirname "$0")/../../lib.sh"
KL=/sys/kernel/debug/kmemleak
[ -e "$KL" ] || skip_script "no $KL: this kernel has no kmemleak (make check-debug runs this)"
plan 3
require_root
step "kmemleak scan after all the scripts of this boot"
# What boot leaked was scanned and cleared by guest-runner.sh already.
check "echo scan > $KL (1)" sh -c "echo scan > $KL"
sleep 5
check "echo scan > $KL (2)" sh -c "echo scan > $KL"
rep=$(cat "$KL")
n=$(printf '%s\n' "$rep" | grep -c '^unreferenced object')
[ "$n" -eq 0 ] || printf '%s\n' "$rep" | head -n 80 | sed 's/^/    | /'
[ -n "$MODALFS_TEST_OUT" ] && printf '%s\n' "$rep" > "$MODALFS_TEST_OUT/kmemleak.txt"
expect_eq "kmemleak reports no unreferenced objects" 0 "$n"
finish
