#!/usr/bin/env bash
# The reg event package end to end: ims-register --keep --reg-event against
# p2p-node's notifier, and network-initiated deregistration with
# `p2p-node deregister`. Hosts: 127.0.14.1 p2p-node, .2 the UE, .3 a stranger.
# Usage: reg-event.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
node=$build/tools/p2p-node
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
p2p_node_start a 127.0.14.1 5060 "$csv"
state=$TEST_TMP/p2p-a
ue=(--proxy sip:127.0.14.1:5060 --local 127.0.14.2 --timeout 3)

# keep_registered NAME ARGS...: ims-register --keep --reg-event in the background.
keep_registered() {
  local name=$1
  shift
  "$reg" "$@" "${ue[@]}" --keep --reg-event --json >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
  UE_PID=$!
  track $UE_PID
  wait_for 5 grep -q '"event":"reg_state"' "$TEST_TMP/$name.out" || fail "$name: no reg_state event within 5 s"
}

# wait_exit PID SECONDS: the process's exit code, or 124 if still running.
wait_exit() {
  local pid=$1
  for _ in $(seq $(($2 * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; return $?; }
    sleep 0.1
  done
  return 124
}

keep_registered alice --subscribers "$csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim"
expect_match "$TEST_TMP/alice.out" '"event":"reg_state".*"contact_state":"active"' "the first NOTIFY shows alice's contact active"

run "$node" deregister --state-dir "$state" sip:alice@ims.test --json
expect_exit 0 "p2p-node deregister"
expect_match "$OUT_FILE" '"event":"deregistered".*"bindings_removed":1' "one binding removed"
set +e; wait_exit $UE_PID 5; ue_rc=$?; set -e
if [ "$ue_rc" -eq 1 ]; then pass "the UE exits 1 when the network deregisters it"; else fail "UE exit $ue_rc, expected 1"; fi
expect_match "$TEST_TMP/alice.out" '"event":"deregistered".*"reason":"deactivated"' "the UE reports the reason (deactivated)"
grep -q "error: the network deregistered sip:alice@ims.test (deactivated)" "$TEST_TMP/alice.err" &&
  pass "the UE's error names the IMPU and reason" || fail "the UE's error line: $(cat "$TEST_TMP/alice.err")"

# rejected, with an MD5 subscriber.
keep_registered carol --impu sip:carol@ims.test --password carol-secret
run "$node" deregister --state-dir "$state" sip:carol@ims.test --reason rejected
expect_exit 0 "p2p-node deregister --reason rejected"
set +e; wait_exit $UE_PID 5; ue_rc=$?; set -e
if [ "$ue_rc" -eq 1 ]; then pass "carol's UE exits 1"; else fail "carol's UE exit $ue_rc, expected 1"; fi
expect_match "$TEST_TMP/carol.out" '"reason":"rejected"' "the UE reports rejected"

# A UE that stops by itself unsubscribes, deregisters and exits 0.
keep_registered carol2 --impu sip:carol@ims.test --password carol-secret
kill -TERM $UE_PID
set +e; wait_exit $UE_PID 5; ue_rc=$?; set -e
if [ "$ue_rc" -eq 0 ]; then pass "SIGTERM with --reg-event: exit 0"; else fail "SIGTERM with --reg-event: exit $ue_rc"; fi
expect_match "$TEST_TMP/carol2.out" '"event":"unregistered"' "deregistered on SIGTERM"

# A stranger may not watch alice's registration (403).
"$reg" --subscribers "$csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim" "${ue[@]}" >/dev/null
"$(dirname "$0")/../lib/sip_send.py" 127.0.14.3 127.0.14.1:5060 SUBSCRIBE sip:alice@ims.test sip:mallory@ims.test \
  "Event: reg" "Expires: 600" >"$TEST_TMP/stranger"
expect_match "$TEST_TMP/stranger" '^SIP/2.0 403' "SUBSCRIBE from an address alice never registered from: 403"

# Bad uses of the deregister command.
run "$node" deregister --state-dir "$state" not-a-uri
expect_exit 2 "deregister with a malformed IMPU"
expect_stderr_line "IMPU" "malformed IMPU message"
run "$node" deregister --state-dir "$state" sip:alice@ims.test --reason gone
expect_exit 2 "deregister with an unknown reason"
run "$node" deregister sip:alice@ims.test
expect_exit 2 "deregister without --state-dir"
expect_stderr_line "--state-dir is required" "missing --state-dir message"
run "$node" deregister --state-dir "$TEST_TMP/nowhere" sip:alice@ims.test --timeout 1
expect_exit 3 "deregister with no node running there"
expect_stderr_line "no p2p-node is running with control socket" "no node message"
run "$node" deregister --state-dir "$state" sip:nobody@ims.test
expect_exit 0 "deregister an IMPU with no binding"
expect_match "$OUT_FILE" "0 binding\(s\) removed" "nothing removed"

# The node kept serving through all of it.
run "$reg" --impu sip:carol@ims.test --password carol-secret "${ue[@]}"
expect_exit 0 "the node still registers"
finish
