# Verdict lines for scenarios (scripts/testbed and tests/scenarios/): one
# PASS/FAIL line per step with its time, and a closing verdict.
# Needs testlib.sh sourced first.
steps_failed=0

# step NAME CMD...: runs CMD, prints its verdict and duration, then what CMD
# wrote to $STEP_DETAIL (figures worth showing, e.g. RTP statistics).
step() {
  local name=$1 start end
  shift
  STEP_DETAIL=$TEST_TMP/step.detail
  : >"$STEP_DETAIL"
  start=$(date +%s%N)
  if "$@" >"$TEST_TMP/step.out" 2>"$TEST_TMP/step.err"; then
    end=$(date +%s%N)
    printf 'PASS  %-62s %6d ms\n' "$name" $(((end - start) / 1000000))
    sed 's/^/      /' "$STEP_DETAIL"
  else
    end=$(date +%s%N)
    printf 'FAIL  %-62s %6d ms\n' "$name" $(((end - start) / 1000000))
    sed 's/^/      /' "$TEST_TMP/step.err" | head -10
    steps_failed=$((steps_failed + 1))
  fi
}

# scenario_verdict: the closing line; exits 1 when a step failed.
scenario_verdict() {
  if [ $steps_failed -eq 0 ]; then
    echo "scenario: all steps passed"
  else
    echo "scenario: $steps_failed step(s) failed"
    exit 1
  fi
}
