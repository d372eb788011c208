#!/usr/bin/env bash
# overlay-probe sip against a real Kamailio registrar: OPTIONS pings with
# status, RTT and Server header; a register-and-deregister check with the
# right credentials (Kamailio holds no binding afterwards) and the wrong ones.
# Hosts: 127.0.0.82 Kamailio (5060), 127.0.0.80 the probe, 127.0.0.82:5099 nobody.
# Usage: overlay-probe-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
probe=$build/tools/overlay-probe

kamailio_start main 127.0.0.82 5060
kamailio_add_user main alice ims.test alice-secret

run "$probe" sip sip:127.0.0.82:5060 --count 3 --local 127.0.0.80
expect_exit 0 "OPTIONS pings of Kamailio"
expect_match "$OUT_FILE" 'sip:127.0.0.82:5060 +200 OK +3/3 answered, rtt [0-9.]+ ms, 0 retransmissions, server "kamailio-imsp2p-test"' \
  "status, answers, RTT, retransmissions and Server header"
sed 's/^/  | /' "$OUT_FILE"

run "$probe" --json sip sip:127.0.0.82:5060 sip:127.0.0.82:5099 --count 2 --local 127.0.0.80 --timeout 1
expect_exit 1 "one node of two answers: negative"
expect_match "$OUT_FILE" '"event":"sip_ping".*"answered":0.*"status":null,"uri":"sip:127.0.0.82:5099"' "the silent node in its sip_ping event"
[ "$(json_field "$OUT_FILE" probe loss_pct)" = 50.0 ] && pass "loss 50%" || fail "loss_pct $(json_field "$OUT_FILE" probe loss_pct)"

run "$probe" --nagios --warning loss_pct=10 sip sip:127.0.0.82:5060 sip:127.0.0.82:5099 --count 2 --local 127.0.0.80 --timeout 1
expect_exit 2 "--nagios: a node not answering is CRITICAL"
expect_match "$OUT_FILE" "^SIP CRITICAL: some nodes did not answer.* \| 'rtt_ms'=[0-9.]+ms 'loss_pct'=50%;10; 'nodes'=1 " \
  "--nagios line with loss threshold"

printf '[sip]\npassword = "alice-secret"\n' >"$TEST_TMP/alice.ini"
run "$probe" --json --config "$TEST_TMP/alice.ini" sip sip:127.0.0.82:5060 --count 1 --local 127.0.0.80 --impu sip:alice@ims.test
expect_exit 0 "register-and-deregister check with the right password (from --config)"
reg=$(json_field "$OUT_FILE" probe register)
echo "info: register $reg"
echo "$reg" | grep -q '"registered": true' && echo "$reg" | grep -q '"deregistered": true' &&
  pass "registered then deregistered" || fail "register check: $reg"
expect_no_match "$OUT_FILE" 'alice-secret' "the password is not in the output"
[ -z "$(kamailio_contacts main alice)" ] && pass "Kamailio holds no binding for alice afterwards" || fail "a binding was left behind"

run "$probe" sip sip:127.0.0.82:5060 --count 1 --local 127.0.0.80 --impu sip:alice@ims.test --password wrong
expect_exit 4 "register check with a wrong password"
expect_match "$OUT_FILE" 'register sip:alice@ims.test +40[13]' "the rejection is shown"
finish
