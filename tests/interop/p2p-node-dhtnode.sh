#!/usr/bin/env bash
# A real OpenDHT node (Debian's dhtnode, same network id) in the core's
# overlay: two p2p-nodes that know only the dhtnode as bootstrap join through
# it, and a binding stored through one resolves through the other.
# Hosts: dhtnode on port 4330 (it binds every interface: it has no address
# option), p2p-nodes 127.0.19.1-2, bob's UA .10, the sender .11.
# Usage: p2p-node-dhtnode.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/sipp.sh"
reg=$build/tools/ims-register
network_id=4803923
csv=$TEST_TMP/subscribers.csv
printf 'impi,impus,auth,password\nbob@ims.test,sip:bob@ims.test,md5,bob-pw\n' >"$csv"

dhtnode -s -p 4330 -n $network_id >"$TEST_TMP/dhtnode.log" 2>&1 </dev/null &
track $!
wait_for 5 sh -c "ss -Huln | grep -q ':4330 '" && pass "dhtnode listens on port 4330" || fail "dhtnode did not start"

overlay_ca n1 n2
overlay_node_start n1 127.0.19.1 "$csv" 127.0.0.1:4330
overlay_node_start n2 127.0.19.2 "$csv" 127.0.0.1:4330
grep -q '"event":"joined".*"bootstrap":\["127.0.0.1:4330"\]' "$TEST_TMP/p2p-n2/stdout" &&
  pass "n2 joined with dhtnode as its only bootstrap" || fail "n2's joined event"
sipp_uas bob message-uas 127.0.19.10 5070 6950 20

registered() {
  "$reg" --impu sip:bob@ims.test --password bob-pw --proxy sip:127.0.19.1 --local 127.0.19.10 \
    --contact sip:bob@127.0.19.10:5070 --expires 600 >/dev/null 2>&1
}
wait_for 20 registered && pass "bob registers through n1 (bootstrapped from dhtnode only)" || fail "bob could not register through n1"
routed() {
  "$(dirname "$0")/../lib/sip_send.py" 127.0.19.11 127.0.19.2:5060 MESSAGE sip:bob@ims.test sip:probe@elsewhere.test |
    grep -q "^SIP/2.0 200"
}
wait_for 15 routed && pass "a MESSAGE through n2 reaches bob: the overlay works through dhtnode" ||
  fail "n2 could not resolve bob"
finish
