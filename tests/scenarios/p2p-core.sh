#!/usr/bin/env bash
# The main scenario of what exists so far: a three-node P2P IMS core on the
# managed overlay (127.0.1.11-13, with the operator's CA), alice (127.0.1.2,
# IMS AKA) and bob (127.0.1.3, a sipp UA as his terminal) registering through
# different nodes, a MESSAGE and a call routed through the overlay, a core
# node killed and the call placed again, a network-initiated
# deregistration seen through the reg event package; then Kamailio as a
# plain registrar (127.0.1.21) for the Digest interop step.
# Prints one verdict line per step (PASS/FAIL and its time); exits 0 only if
# every step passes. Usage: p2p-core.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/scenario.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/sipp.sh"
register() { "$build/tools/ims-register" --timeout "$TOOL_TIMEOUT" "$@"; }
node=$build/tools/p2p-node

csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
bob@ims.test,sip:bob@ims.test,md5,bob-secret,,,,,
CSV
alice=(--subscribers "$csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim" --local 127.0.1.2)

start_core() {
  overlay_ca node1 node2 node3 &&
    overlay_node_start node1 127.0.1.11 "$csv" -- --ind 1 &&
    overlay_node_start node2 127.0.1.12 "$csv" 127.0.1.11:4222 -- --ind 2 &&
    overlay_node_start node3 127.0.1.13 "$csv" 127.0.1.11:4222 127.0.1.12:4222 -- --ind 3
}
bob_registers() {
  sipp_uas bob-calls invite-uas 127.0.1.3 5072 6900 2 && sipp_uas bob-messages message-uas 127.0.1.3 5070 6910 1 &&
    # The overlay settles within seconds: retry the first registration until it does.
    wait_for 15 register --impu sip:bob@ims.test --password bob-secret --proxy sip:127.0.1.13 --local 127.0.1.3 \
      --contact sip:bob@127.0.1.3:5070 --expires 600
}
alice_registers() {
  register "${alice[@]}" --proxy sip:127.0.1.11 --json >"$TEST_TMP/alice.json" &&
    grep -q '"algorithm":"AKAv1-MD5"' "$TEST_TMP/alice.json" &&
    grep -q '"service_route":\["<sip:orig@127.0.1.11:5060;lr>"\]' "$TEST_TMP/alice.json"
}
message_bob() {
  printf 'SEQUENTIAL\nalice;ims.test;bob;ims.test\n' >"$TEST_TMP/many.csv"
  timeout 30 sipp 127.0.1.11:5060 -sf "$SIPP_SCENARIOS/message-uac-many.xml" -inf "$TEST_TMP/many.csv" \
    -i 127.0.1.2 -p 5080 -mp 6920 -m 1 -nostdin -timeout 10 -timeout_error >/dev/null 2>&1
}
call_bob_via() {
  register --impu sip:bob@ims.test --password bob-secret --proxy sip:127.0.1.13 --local 127.0.1.3 \
    --contact sip:bob@127.0.1.3:5072 --expires 600 >/dev/null &&
    sipp_uac invite-uac "$1:5060" alice ims.test bob 127.0.1.2 5080 6930 && [ "$RC" -eq 0 ]
}
kill_node1() { kill -9 "$P2P_PID_node1" && { wait "$P2P_PID_node1" 2>/dev/null || true; }; }
deregistered_by_network() {
  register "${alice[@]}" --proxy sip:127.0.1.12 --keep --reg-event --json >"$TEST_TMP/keep.json" 2>/dev/null &
  local pid=$!
  track $pid
  wait_for 10 grep -q '"event":"reg_state"' "$TEST_TMP/keep.json" || return 1
  "$node" deregister --state-dir "$TEST_TMP/p2p-node2" sip:alice@ims.test >/dev/null || return 1
  local rc=0
  for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  wait $pid || rc=$?
  [ $rc -eq 1 ] && grep -q '"event":"deregistered".*"reason":"deactivated"' "$TEST_TMP/keep.json"
}
kamailio_interop() {
  kamailio_start registrar 127.0.1.21 5060 && kamailio_add_user registrar bob ims.test bob-secret &&
    register --impu sip:bob@ims.test --password bob-secret --proxy sip:127.0.1.21 --local 127.0.1.3 --json >"$TEST_TMP/kam.json" &&
    kamailio_contacts registrar bob | grep -qx "$(json_field "$TEST_TMP/kam.json" registered contact)"
}

echo "imsp2p scenario: a P2P IMS core on a managed OpenDHT overlay"
step "start 3 core nodes (CA, certificates, overlay on 127.0.1.11-13)" start_core
step "bob registers through node3 (Digest MD5)" bob_registers
step "alice registers through node1 (IMS AKA, AKAv1-MD5)" alice_registers
step "alice sends bob a MESSAGE via node1 (binding from the overlay)" message_bob
step "alice calls bob via node2: INVITE/180/200/ACK/BYE" call_bob_via 127.0.1.12
step "node1 is killed (SIGKILL)" kill_node1
step "alice calls bob again via node3: the overlay lost nothing" call_bob_via 127.0.1.13
step "the network deregisters alice; her UE sees it (reg event)" deregistered_by_network
step "interop: bob registers with Kamailio; kamcmd shows the binding" kamailio_interop

scenario_verdict
