#!/usr/bin/env bash
# ims-call through a real Kamailio (registrar and record-routing proxy with
# Digest: 407 for INVITE and MESSAGE): users registered by ims-register, their
# terminals ims-call answerers; calls both ways with RTP, a MESSAGE, and the
# failures: unknown user (404, exit 1), wrong password (exit 4).
# Hosts: 127.0.22.1 Kamailio, .2 alice, .3 bob.
# Usage: ims-call-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
. "$(dirname "$0")/../lib/ims_call.sh"
alice_bob_kamailio main 127.0.22.1
proxy=sip:127.0.22.1:5060
# rtp_ok CALLER_OUT ANSWERER_OUT: both sides of the last call received RTP without loss.
rtp_ok() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def last_call(path):
    return [json.loads(l) for l in open(path) if '"event":"call"' in l][-1]
calls = [last_call(p) for p in sys.argv[1:]]
ok = calls[0]["call_id"] == calls[1]["call_id"]
for call in calls:
    m = call["media"]
    print(f"  {call['direction']}: status {call['status']}, setup {call['setup_ms']} ms, received {m['packets_received']}, lost {m['packets_lost']}, jitter {m['jitter_ms']} ms")
    ok = ok and call["status"] == 200 and m["packets_received"] >= 40 and m["packets_lost"] == 0
sys.exit(0 if ok else 1)
PY
}

answerer bob 127.0.22.3:5070 --answer --max-calls 1
run "$reg" --subscribers "$csv" --impi bob --impu sip:bob@ims.test --proxy $proxy --local 127.0.22.3 --contact sip:bob@127.0.22.3:5070
expect_exit 0 "bob registers his answerer with Kamailio"
run "$reg" --subscribers "$csv" --impi alice --impu sip:alice@ims.test --proxy $proxy --local 127.0.22.2 --json
expect_exit 0 "alice registers with Kamailio"
cp "$OUT_FILE" "$TEST_TMP/alice.json"

run "$call" --registration "$TEST_TMP/alice.json" --subscribers "$csv" --message "hello bob" --json sip:bob@ims.test
expect_exit 0 "alice → bob MESSAGE through Kamailio (407 answered)"
wait_for 3 grep -q '"event":"message".*"text":"hello bob"' "$TEST_TMP/bob.out" && pass "bob got the MESSAGE" ||
  fail "bob did not print the MESSAGE"

run "$call" --registration "$TEST_TMP/alice.json" --subscribers "$csv" --duration 1 --json sip:bob@ims.test
expect_exit 0 "alice calls bob through Kamailio (Digest on the INVITE, Service-Route preloaded)"
cp "$OUT_FILE" "$TEST_TMP/alice-call.out"
wait_for 5 grep -q '"event":"call"' "$TEST_TMP/bob.out" || true
rtp_ok "$TEST_TMP/alice-call.out" "$TEST_TMP/bob.out" && pass "RTP both ways (alice → bob)" || fail "RTP alice → bob"

# The other direction: alice's terminal answers, bob calls.
answerer alice 127.0.22.2:5070 --answer --max-calls 1
run "$reg" --subscribers "$csv" --impi alice --impu sip:alice@ims.test --proxy $proxy --local 127.0.22.2 --contact sip:alice@127.0.22.2:5070
expect_exit 0 "alice registers her answerer"
run "$call" --impu sip:bob@ims.test --impi bob --password bob-secret --proxy $proxy --local 127.0.22.3 --duration 1 --json sip:alice@ims.test
expect_exit 0 "bob calls alice through Kamailio"
cp "$OUT_FILE" "$TEST_TMP/bob-call.out"
wait_for 5 grep -q '"event":"call"' "$TEST_TMP/alice.out" || true
rtp_ok "$TEST_TMP/bob-call.out" "$TEST_TMP/alice.out" && pass "RTP both ways (bob → alice)" || fail "RTP bob → alice"

run "$call" --impu sip:bob@ims.test --impi bob --password wrong --proxy $proxy --local 127.0.22.3 sip:alice@ims.test
expect_exit 4 "a wrong password"
run "$call" --impu sip:bob@ims.test --impi bob --password bob-secret --proxy $proxy --local 127.0.22.3 --json sip:nobody@ims.test
expect_exit 1 "a call to a user Kamailio does not know"
expect_match "$OUT_FILE" '"status":404' "404 Not Found"
finish
