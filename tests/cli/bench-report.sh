#!/usr/bin/env bash
# bench/report's command line (it runs no benchmark here: tests never assert
# on timings): --help, an unknown --only name refused with exit 2, and the
# BENCH_JSON rows the benches append through bench_record.py.
# Usage: tests/cli/bench-report.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
. "$src/tests/lib/testlib.sh"
report=$src/bench/report

run "$report" --help
expect_exit 0 "bench/report --help"
expect_match "$OUT_FILE" '--quick' "--help lists --quick"
expect_match "$OUT_FILE" 'swarm-scale +issue 6' "--help lists the benches with their issues"

run "$report" --only core-register,no-such-bench --out "$TEST_TMP/out"
expect_exit 2 "an unknown --only name"
expect_match "$ERR_FILE" '^report: unknown bench in --only: no-such-bench \(known: register-load' \
  "the error names the unknown bench and the known ones"
[ ! -e "$TEST_TMP/out" ] && pass "nothing written for a usage error" || fail "$TEST_TMP/out was created"

run "$report" --only ""
expect_exit 2 "an empty --only"

run "$report" --timeout 0 --only swarm-scale
expect_exit 2 "--timeout 0"

run env -u BENCH_JSON python3 "$src/bench/bench_record.py" swarm-scale n=4
expect_exit 0 "bench_record.py without BENCH_JSON writes nothing"
run env BENCH_JSON="$TEST_TMP/rows.jsonl" python3 "$src/bench/bench_record.py" swarm-scale n=4 share=1.25 label="a b"
run env BENCH_JSON="$TEST_TMP/rows.jsonl" python3 "$src/bench/bench_record.py" swarm-scale n=8
expect_match "$TEST_TMP/rows.jsonl" '^\{"bench": "swarm-scale", "n": 4, "share": 1.25, "label": "a b"\}$' \
  "bench_record.py appends one JSON line per row, numbers as numbers"
rows=$(wc -l <"$TEST_TMP/rows.jsonl")
[ "$rows" -eq 2 ] && pass "rows are appended" || fail "rows.jsonl has $rows lines: $(cat "$TEST_TMP/rows.jsonl")"
run python3 "$src/bench/bench_record.py" swarm-scale n4
expect_exit 2 "bench_record.py refuses an argument without ="
finish
