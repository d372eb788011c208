#!/usr/bin/env bash
# Checks that each tool's --help, man page and shell completions agree, that
# the committed generated files (man/<tool>.1, completions/) match what
# scripts/gen-docs makes from the sources now, and the CLI contract of
# DESIGN.md §3 that every tool shares (help, version, exit codes 2 and 5).
# Prints one line per check and a final "N passed, N failed"; exits 1 on any
# failure. zsh and fish syntax checks run only where those shells are installed.
# Usage: tests/cli/check-docs.sh BUILD_DIR SOURCE_DIR [TOOL...]  (default: every tool)
set -uo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BUILD_DIR SOURCE_DIR [TOOL...]" >&2; exit 2; }
build=$(cd "$1" && pwd) && src=$(cd "$2" && pwd) || exit 2
shift 2
tools=("$@")
if [[ ${#tools[@]} -eq 0 ]]; then
  for dir in "$src"/tools/*/; do tools+=("$(basename "$dir")"); done
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0
pass() { echo "ok   $tool: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $tool: $*"; failed=$((failed + 1)); }
first_line() { head -n1 "$1" | cut -c1-160; }

# Long options of --help, one per line without dashes: the names that start
# an option line (descriptions that mention options do not count).
help_options() { sed -nE 's/^ +(-[[:alnum:]],)*--([[:alnum:]][[:alnum:]-]*).*/\2/p' "$1" | sort -u; }

# Compares the options a document provides (names on stdin) with --help's.
# Feed it with < <(...), not a pipe, so that it counts in this shell.
expect_all_options() {
  local what=$1 missing
  missing=$(comm -23 "$tmp/options" <(sort -u) | sed 's/^/--/' | paste -sd' ')
  if [[ -z $missing ]]; then
    pass "$what has all $(wc -l <"$tmp/options") long options of --help"
  else
    fail "$what lacks $missing"
  fi
}

# Words the bash completion offers after "TOOL --": running it, rather than
# grepping it, also catches options that are in the file but never offered.
bash_offers() {
  bash -c '. "$1" >/dev/null 2>&1 || exit 1
    spec=$(complete -p "$2") || exit 1
    fn=${spec#*-F }; fn=${fn%% *}
    COMP_WORDS=("$2" --); COMP_CWORD=1; COMP_LINE="$2 --"; COMP_POINT=${#COMP_LINE}
    "$fn" "$2" -- "$2"; printf "%s\n" "${COMPREPLY[@]}"' _ "$1" "$2"
}

# Option terms of the man page's OPTIONS section, e.g. "\fB-V\fR, \fB--version\fR".
man_options() {
  awk '/^\.SH /{ in_options = ($0 == ".SH OPTIONS") } in_options' "$1" |
    grep -oE '^(\\fB-[[:alnum:]]\\fR, )?\\fB--[[:alnum:]-]+\\fR' | sed -E 's/.*\\fB--//; s/\\fR$//'
}

# A committed generated file must equal what gen-docs makes now.
expect_current() {
  local committed=$src/$1 generated=$tmp/gen/$1 where
  if [[ ! -f $committed ]]; then
    fail "$1 is missing (run scripts/gen-docs)"
  elif [[ ! -f $generated ]]; then
    fail "$1 could not be regenerated"
  elif where=$(cmp "$committed" "$generated" 2>&1); then
    pass "$1 is up to date"
  else
    fail "$1 differs from what $2 gives now (${where##*, }; run scripts/gen-docs)"
  fi
}

expect_parses() {
  local shell=$1 file=$2
  shift 2
  [[ -f $src/$file ]] || return 0 # reported as missing already
  if "$@" "$src/$file" >/dev/null 2>"$tmp/syntax"; then
    pass "$file parses ($shell)"
  else
    fail "$file does not parse ($shell): $(first_line "$tmp/syntax")"
  fi
}

for tool in "${tools[@]}"; do
  bin=$build/tools/$tool
  if [[ ! -x $bin ]]; then
    fail "$bin not found (build first)"
    continue
  fi

  # The CLI contract every tool shares.
  "$bin" --help >"$tmp/help" 2>"$tmp/err"
  rc=$?
  if [[ $rc -eq 0 && -s $tmp/help && ! -s $tmp/err ]]; then
    pass "--help exits 0 with the help on stdout and nothing on stderr"
  else
    fail "--help: exit $rc, $(wc -c <"$tmp/help") bytes on stdout, stderr: $(first_line "$tmp/err")"
  fi
  "$bin" -V >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -eq 0 ]] && grep -qE "^$tool \(imsp2p\) [0-9]+\.[0-9]+" "$tmp/out"; then
    pass "-V prints '$(first_line "$tmp/out")'"
  else
    fail "-V: exit $rc, stdout: $(first_line "$tmp/out")"
  fi
  "$bin" --help >/dev/full 2>"$tmp/err"
  rc=$?
  if [[ $rc -eq 5 ]]; then pass "--help >/dev/full exits 5"; else fail "--help >/dev/full exits $rc, not 5"; fi
  "$bin" --no-such-option >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -eq 2 && -s $tmp/err && ! -s $tmp/out ]]; then
    pass "--no-such-option exits 2: $(first_line "$tmp/err")"
  else
    fail "--no-such-option: exit $rc (not 2), stderr: $(first_line "$tmp/err")"
  fi

  # Committed files against what the sources and the binary give now.
  if ! "$src/scripts/gen-docs" -o "$tmp/gen" "$build" "$tool" 2>"$tmp/err"; then
    fail "scripts/gen-docs failed: $(first_line "$tmp/err")"
  fi
  expect_current "man/$tool.1" "scdoc on man/$tool.1.scd"
  for file in "completions/bash/$tool" "completions/zsh/_$tool" "completions/fish/$tool.fish"; do
    shell=${file#completions/}
    expect_current "$file" "$tool --generate-completion ${shell%%/*}"
  done

  # Every long option of --help is in every document.
  help_options "$tmp/help" >"$tmp/options"
  [[ -s $tmp/options ]] || fail "--help lists no long option"
  expect_all_options "bash completion of '$tool --'" \
    < <(bash_offers "$src/completions/bash/$tool" "$tool" | sed -n 's/^--//p')
  expect_all_options "completions/zsh/_$tool" \
    < <(grep -oE "'\*?--[[:alnum:]-]+=?\[" "$src/completions/zsh/_$tool" 2>/dev/null | sed -E "s/^'\*?--//; s/=?\[$//")
  expect_all_options "completions/fish/$tool.fish" \
    < <(grep -oE ' -l [[:alnum:]-]+' "$src/completions/fish/$tool.fish" 2>/dev/null | sed 's/ -l //')
  expect_all_options "OPTIONS of man/$tool.1" < <(man_options "$src/man/$tool.1" 2>/dev/null)

  # The man page has the sections users and STYLE.md rely on, and renders cleanly.
  missing=()
  for section in OPTIONS "JSON OUTPUT" "EXIT STATUS" EXAMPLES; do
    grep -qxF ".SH $section" "$src/man/$tool.1" 2>/dev/null || missing+=("$section")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    pass "man/$tool.1 has OPTIONS, JSON OUTPUT, EXIT STATUS and EXAMPLES"
  else
    fail "man/$tool.1 lacks the section(s) $(printf '"%s"\n' "${missing[@]}" | paste -sd' ')"
  fi
  if command -v groff >/dev/null && [[ -f $src/man/$tool.1 ]]; then
    if groff -man -Tutf8 -ww -z "$src/man/$tool.1" 2>"$tmp/err" && [[ ! -s $tmp/err ]]; then
      pass "man/$tool.1 renders without warnings"
    else
      fail "man/$tool.1 renders with warnings: $(first_line "$tmp/err")"
    fi
  fi

  # Completions must at least load in their shells.
  expect_parses bash "completions/bash/$tool" bash -n
  if command -v zsh >/dev/null; then expect_parses zsh "completions/zsh/_$tool" zsh -n; fi
  if command -v fish >/dev/null; then expect_parses fish "completions/fish/$tool.fish" fish --no-execute; fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
