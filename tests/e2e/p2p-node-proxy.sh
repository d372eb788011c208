#!/usr/bin/env bash
# p2p-node as a stateful proxy: MESSAGE and a whole call (INVITE, ACK, BYE
# along the Record-Route) between sipp UAs registered with ims-register, and
# every request the node answers itself (403, 404, 407, 480, 483), and the
# Digest challenge of a request from where its sender is not registered.
# Hosts: 127.0.15.1 p2p-node, .2 alice, .3 bob, .4 a stranger.
# Usage: p2p-node-proxy.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/sipp.sh"
reg=$build/tools/ims-register
send=$(dirname "$0")/../lib/sip_send.py
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
carol@ims.test,sip:carol@ims.test,md5,carol-pw,,,,,
CSV
p2p_node_start a 127.0.15.1 5060 "$csv" --json --metrics 127.0.15.1:9100
node=127.0.15.1:5060

# bob's contacts are sipp UAs; alice registers from her own address.
sipp_uas bob-message message-uas 127.0.15.3 5070 6300 4
sipp_uas bob-call invite-uas 127.0.15.3 5072 6310 1
run "$reg" --impu sip:bob@ims.test --password bob-pw --proxy sip:$node --local 127.0.15.3 --contact sip:bob@127.0.15.3:5070
expect_exit 0 "bob registers his MESSAGE UA"
run "$reg" --impu sip:alice@ims.test --password alice-pw --proxy sip:$node --local 127.0.15.2
expect_exit 0 "alice registers"

sipp_uac message-uac $node alice ims.test bob 127.0.15.2 5080 6320
expect_exit 0 "MESSAGE alice → bob through the node (sipp UAs)"
wait_for 5 grep -q '"event":"routed","ts":"[^"]*","method":"MESSAGE".*"status":200' "$TEST_TMP/p2p-a/stdout" &&
  pass "the node logged the routed MESSAGE" || fail "no routed MESSAGE event"

run "$reg" --impu sip:bob@ims.test --password bob-pw --proxy sip:$node --local 127.0.15.3 --contact sip:bob@127.0.15.3:5072
expect_exit 0 "bob registers his call UA (the newest binding wins)"
sipp_uac invite-uac $node alice ims.test bob 127.0.15.2 5080 6320
expect_exit 0 "call alice → bob: INVITE, 180, 200, ACK, BYE"
expect_match "$TEST_TMP/sipp-uac.log" "Record-Route: <sip:127.0.15.1:5060;lr>" "the 200 OK carries the node's Record-Route"
grep -q '"method":"BYE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the BYE came back through the node" ||
  fail "the BYE did not pass the node"

# Requests the node answers itself.
"$send" 127.0.15.2 $node MESSAGE sip:nobody@ims.test sip:alice@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 404" "unknown user: 404"
"$send" 127.0.15.2 $node MESSAGE sip:carol@ims.test sip:alice@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 480" "known user without a binding: 480"
"$send" 127.0.15.4 $node MESSAGE sip:bob@ims.test sip:alice@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 407" "a home user's request from where she is not registered: challenged (407)"
"$send" 127.0.15.4 $node MESSAGE sip:bob@ims.test sip:nobody@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 403" "a request from an identity no subscriber owns: 403"
"$send" 127.0.15.4 $node MESSAGE sip:bob@ims.test sip:carol@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 407" "a request from an unregistered user: challenged (407)"

# auth_message PASSWORD: alice, away from where she registered, answers the
# challenge of a MESSAGE to bob (sipp computes the Proxy-Authorization).
auth_message() {
  printf 'SEQUENTIAL\nalice;ims.test;ims.test\n' >"$TEST_TMP/auth.csv"
  set +e
  timeout 30 sipp $node -sf "$SIPP_SCENARIOS/message-uac-auth.xml" -inf "$TEST_TMP/auth.csv" -s bob \
    -au alice@ims.test -ap "$1" -i 127.0.15.4 -p 5090 -mp 6400 -m 1 -nostdin -timeout 10 -timeout_error \
    -trace_msg -message_file "$TEST_TMP/sipp-auth.log" >/dev/null 2>&1
  RC=$?
  set -e
}
# bob's MESSAGE UA is his newest binding again (his call UA registered after it, and is gone).
run "$reg" --impu sip:bob@ims.test --password bob-pw --proxy sip:$node --local 127.0.15.3 --contact sip:bob@127.0.15.3:5070
auth_message wrong-pw
[ $RC -ne 0 ] && grep -q "^SIP/2.0 403" "$TEST_TMP/sipp-auth.log" && pass "a wrong answer to the challenge: 403" ||
  fail "a wrong answer to the challenge was not refused (sipp exit $RC)"
rm -f "$TEST_TMP/sipp-auth.log"
auth_message alice-pw
[ $RC -eq 0 ] && pass "the right answer to the challenge: the MESSAGE reaches bob (200)" ||
  fail "the right answer to the challenge did not get through (sipp exit $RC)"
expect_match "$TEST_TMP/sipp-auth.log" "Proxy-Authenticate: Digest realm=\"ims.test\"" "the challenge names the home realm"
"$send" 127.0.15.4 $node MESSAGE sip:bob@ims.test sip:dave@elsewhere.test "Max-Forwards: 0" >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 483" "Max-Forwards 0: 483"
"$send" 127.0.15.4 $node OPTIONS sip:127.0.15.1:5060 sip:dave@elsewhere.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 200" "OPTIONS for the node itself: 200"
"$send" 127.0.15.4 $node FOO sip:127.0.15.1:5060 sip:dave@elsewhere.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 501" "unknown method for the node itself: 501"

# Prometheus metrics of what happened above.
curl -sf http://127.0.15.1:9100/metrics >"$TEST_TMP/metrics" && pass "GET /metrics" || fail "GET /metrics failed"
expect_match "$TEST_TMP/metrics" '^imsp2p_sip_transactions_total\{method="MESSAGE",status="200"\} 2$' "metrics: two MESSAGEs answered 200"
expect_match "$TEST_TMP/metrics" '^imsp2p_sip_transactions_total\{method="MESSAGE",status="404"\} 1$' "metrics: one MESSAGE answered 404"
expect_match "$TEST_TMP/metrics" '^imsp2p_sip_transactions_total\{method="MESSAGE",status="407"\} [1-9]' "metrics: challenged MESSAGEs"
expect_match "$TEST_TMP/metrics" '^imsp2p_registrations_total\{outcome="registered"\} [3-9]$' "metrics: the registrations"
expect_match "$TEST_TMP/metrics" '^imsp2p_location_lookup_seconds_count [1-9]' "metrics: lookup latency histogram"
expect_match "$TEST_TMP/metrics" '^# TYPE imsp2p_location_lookup_seconds histogram$' "metrics: typed for Prometheus"

# The node still serves after all of it.
run "$reg" --impu sip:carol@ims.test --password carol-pw --proxy sip:$node --local 127.0.15.2
expect_exit 0 "the node still registers"
finish
