#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: every tool runs --help from
# there with LD_LIBRARY_PATH unset (it finds libimsp2p through its RPATH,
# in the prefix, not in the build tree), and each man page and completion is
# where man and the shells look for it.
# Usage: install.sh CMAKE BUILD_DIR LIBDIR TOOL...
set -eu
cmake=$1 build=$2 libdir=$3
shift 3
. "$(dirname "$0")/../lib/testlib.sh"
prefix=$TEST_TMP/prefix

run "$cmake" --install "$build" --prefix "$prefix"
expect_exit 0 "cmake --install --prefix $prefix"
if [ -e "$prefix/$libdir/libimsp2p.so.0" ]; then pass "libimsp2p.so.0 in $libdir/"; else fail "no $libdir/libimsp2p.so.0"; fi

for tool in "$@"; do
  binary=$prefix/bin/$tool
  run env -u LD_LIBRARY_PATH "$binary" --help
  expect_exit 0 "$tool --help from the prefix"
  expect_match "$OUT_FILE" "^Usage: $tool" "$tool --help prints its usage"
  run env -u LD_LIBRARY_PATH ldd "$binary"
  expect_match "$OUT_FILE" "libimsp2p\.so\.0 => $prefix/bin/\.\./$libdir/libimsp2p\.so\.0" \
    "$tool loads libimsp2p from the prefix"
  for file in "share/man/man1/$tool.1" "share/bash-completion/completions/$tool" \
    "share/zsh/vendor-completions/_$tool" "share/fish/vendor_completions.d/$tool.fish"; do
    if [ -s "$prefix/$file" ]; then pass "$file installed"; else fail "$file missing"; fi
  done
  # bash-completion loads completions/TOOL on demand: it must register TOOL's.
  run bash -c ". '$prefix/share/bash-completion/completions/$tool' && complete -p '$tool'"
  expect_exit 0 "the bash completion registers $tool"
done
finish
