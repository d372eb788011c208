#!/usr/bin/env bash
# A call and a MESSAGE between two operators' cores: Kamailio for kam.test,
# p2p-node for ims.test, each the other's next hop. Hosts: 127.0.18.1
# p2p-node, .5 Kamailio, .2 alice (ims.test), .3 bob (ims.test), .6 carol (kam.test).
# Usage: p2p-node-kamailio-peering.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/sipp.sh"
reg=$build/tools/ims-register
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
CSV
KAMAILIO_REGISTRAR=127.0.18.1:5060 kamailio_start kam 127.0.18.5 5060 MD5 peer
kamailio_add_user kam carol kam.test carol-pw
p2p_node_start a 127.0.18.1 5060 "$csv" --json --peer kam.test=sip:127.0.18.5:5060

# Kamailio's user calls p2p-node's user.
sipp_uas bob invite-uas 127.0.18.3 5072 6400 1
run "$reg" --impu sip:bob@ims.test --password bob-pw --proxy sip:127.0.18.1 --local 127.0.18.3 --contact sip:bob@127.0.18.3:5072
expect_exit 0 "bob registers with p2p-node"
sipp_uac invite-uac 127.0.18.5:5060 carol kam.test bob 127.0.18.6 5080 6410 ims.test
expect_exit 0 "call carol@kam.test (via Kamailio) → bob@ims.test (via p2p-node)"
grep -q '"method":"INVITE","next_hop":"sip:bob@127.0.18.3:5072".*"status":200' "$TEST_TMP/p2p-a/stdout" &&
  pass "p2p-node routed Kamailio's INVITE to bob's contact" || fail "no routed INVITE from Kamailio in p2p-node's log"
grep -q '"method":"BYE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the BYE passed p2p-node" ||
  fail "the BYE did not pass p2p-node"

# p2p-node's user sends a MESSAGE to Kamailio's user.
sipp_uas carol message-uas 127.0.18.6 5070 6420 1
run "$reg" --impu sip:carol@kam.test --password carol-pw --proxy sip:127.0.18.5 --local 127.0.18.6 --contact sip:carol@127.0.18.6:5070
expect_exit 0 "carol registers with Kamailio"
run "$reg" --impu sip:alice@ims.test --password alice-pw --proxy sip:127.0.18.1 --local 127.0.18.2
expect_exit 0 "alice registers with p2p-node"
printf 'SEQUENTIAL\nalice;ims.test;carol;kam.test\n' >"$TEST_TMP/many.csv"
set +e
timeout 30 sipp 127.0.18.1:5060 -sf "$SIPP_SCENARIOS/message-uac-many.xml" -inf "$TEST_TMP/many.csv" \
  -i 127.0.18.2 -p 5082 -mp 6430 -m 1 -nostdin -timeout 10 -timeout_error >/dev/null 2>&1
RC=$?
set -e
LAST_CMD="sipp MESSAGE alice@ims.test → carol@kam.test"
expect_exit 0 "MESSAGE alice@ims.test (via p2p-node) → carol@kam.test (via Kamailio)"
grep -q '"method":"MESSAGE","next_hop":"sip:127.0.18.5:5060".*"status":200' "$TEST_TMP/p2p-a/stdout" &&
  pass "p2p-node sent it to its peer for kam.test" || fail "p2p-node did not use the peer route"
finish
