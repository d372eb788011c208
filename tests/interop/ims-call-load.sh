#!/usr/bin/env bash
# ims-call's load mode through a real Kamailio (a minimal record-routing
# proxy, tests/interop/kamailio/callproxy.cfg.in) to an ims-call answerer:
# callers and callees the rows of a subscriber file, a periodic load_stats
# line (JSON, and CSV in text mode), retransmissions counted, --run-time,
# and the usage errors of load mode.
# Hosts: 127.0.140.31 Kamailio, .32 the caller, .33 the answerer.
# Usage: ims-call-load.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
call=$build/tools/ims-call
csv=$TEST_TMP/users.csv
{
  echo "impi,impus,auth,password"
  for i in $(seq 1 10); do echo "u$i@ims.test,sip:u$i@ims.test,md5,pw-$i"; done
} >"$csv"
KAMAILIO_REGISTRAR=127.0.140.33:5070 kamailio_start calls 127.0.140.31 5060 MD5 callproxy 128
"$call" --listen 127.0.140.33:5070 --answer --media none --json >"$TEST_TMP/answer.out" 2>"$TEST_TMP/answer.err" &
track $!
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/answer.out" || fail "the answerer did not start"
load=(--proxy sip:127.0.140.31:5060 --local 127.0.140.32 --media none)

run "$call" "${load[@]}" --subscribers "$csv" --count 400 --rate 200 --duration 0.5 --stats-interval 0.5 --json
expect_exit 0 "400 calls between the file's 10 subscribers through Kamailio"
python3 - "$OUT_FILE" <<'PY' && pass "summary: 400 of 400, 10 callers, setup percentiles, retransmissions, stats lines" || fail "the load summary"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
s = [e for e in events if e["event"] == "load_summary"][-1]
stats = [e for e in events if e["event"] == "load_stats"]
print("  summary:", {k: s[k] for k in ("attempts", "successes", "failures", "callers", "calls_per_s", "setup_ms", "retransmissions", "cpu_s_per_1000_calls")})
print(f"  {len(stats)} load_stats lines, attempts {sum(e['attempts'] for e in stats)}")
ok = (s["attempts"] == 400 and s["successes"] == 400 and s["callers"] == 10 and s["target"] is None
      and isinstance(s["retransmissions"], int) and s["requests_sent"] >= 800
      and 0 < s["setup_ms"]["p50"] <= s["setup_ms"]["p99"] and s["calls_per_s"] > 0
      and len(stats) >= 3 and all("setup_ms" in e and "in_progress" in e for e in stats))
sys.exit(0 if ok else 1)
PY
wait_for 5 sh -c "[ \$(grep -c '\"event\":\"call\"' '$TEST_TMP/answer.out') -ge 400 ]" || true
python3 - "$TEST_TMP/answer.out" <<'PY' && pass "the answerer saw every caller call every callee as the file's rows" || fail "callers and callees"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"event":"call"' in l]
pairs = {(c["from"], c["to"]) for c in calls}
print(f"  {len(calls)} calls, {len(pairs)} caller/callee pairs, e.g. {sorted(pairs)[:2]}")
ok = len(calls) >= 400 and len({f for f, _ in pairs}) == 10 and all(f != t for f, t in pairs) and ("sip:u1@ims.test", "sip:u6@ims.test") in pairs
sys.exit(0 if ok else 1)
PY

run "$call" "${load[@]}" --impu sip:alice@ims.test --run-time 1 --rate 100 --duration 0.2 --stats-interval 0.4 sip:bob@ims.test
expect_exit 0 "--run-time 1 at 100/s, text mode"
expect_match "$OUT_FILE" '^elapsed_s,attempts,answered,successes,failures,in_progress,calls_per_s,setup_p50_ms,setup_p99_ms,retransmissions$' \
  "the CSV header of the stats lines"
expect_match "$OUT_FILE" '^[0-9.]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9.]+,[0-9.]+,[0-9.]+,[0-9]+$' "a CSV stats line"
expect_match "$OUT_FILE" '^(9[0-9]|10[0-9]) calls to sip:bob@ims.test: .* succeeded, 0 failed' "about 100 calls in 1 s"

run "$call" "${load[@]}" --impu sip:alice@ims.test --stats-interval 1 sip:bob@ims.test
expect_exit 2 "--stats-interval without --count or --run-time"
run "$call" --subscribers "$csv" --local 127.0.140.32 --count 10
expect_exit 2 "callees from the file without --proxy"
run "$call" "${load[@]}" --subscribers "$csv" --count 10 --message hi
expect_exit 2 "load mode with --message"
finish
