#!/usr/bin/env bash
# ims-call answers the challenges a core puts to its INVITE and MESSAGE with
# the credentials ims-register uses: IMS AKA (AKAv1-MD5, AKAv2-MD5 from an
# aka row's K and OP, the USIM's SEQ_MS kept in --usim-state), and SHA-256
# Digest; a USIM that does not hold the network's K fails with exit 4.
# p2p-node challenges requests from an address without a binding (407).
# Hosts: 127.0.140.51 p2p-node (AKAv1, SHA-256 offered), .52 p2p-node (AKAv2),
# .53 alice's UE (no binding there), .54 bob's answerer, .55 where alice and carol registered.
# Usage: ims-call-aka.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
k=465b5ce8b199b49faa5f0a2ee238a6bc
op=cdc202d5123e20f62b6d676ac72cb318
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,aka,,$k,$op,,8000,000000000020
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
carol@ims.test,sip:carol@ims.test,md5,carol-pw,,,,,
CSV
sed "s/^alice@ims.test,\(.*\),aka,,$k,/alice@ims.test,\1,aka,,00112233445566778899aabbccddeeff,/" "$csv" >"$TEST_TMP/wrong-k.csv"
export XDG_STATE_HOME=$TEST_TMP/state # the default USIM state, shared with ims-register

p2p_node_start a 127.0.140.51 5060 "$csv" --digest-algorithm sha-256
p2p_node_start b 127.0.140.52 5060 "$csv" --aka-version 2
"$call" --listen 127.0.140.54:5070 --answer --media none --json >"$TEST_TMP/bob.out" 2>"$TEST_TMP/bob.err" &
track $!
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/bob.out" || fail "bob's answerer did not start"
for node in 127.0.140.51 127.0.140.52; do
  run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy sip:$node:5060 --local 127.0.140.54 --contact sip:bob@127.0.140.54:5070
  expect_exit 0 "bob registers his answerer with $node"
done
# The callers are registered (from .55): the node takes calls from registered users only, and
# challenges those that come from an address without their binding (.53).
for node in 127.0.140.51 127.0.140.52; do
  for user in alice carol; do
    run "$reg" --subscribers "$csv" --impi $user@ims.test --proxy sip:$node:5060 --local 127.0.140.55 --usim-state "$TEST_TMP/$user-reg.usim"
    expect_exit 0 "$user registers with $node from another address"
  done
done
alice=(--subscribers "$csv" --impi alice@ims.test --local 127.0.140.53 --media none --duration 0.3)

run "$call" "${alice[@]}" --proxy sip:127.0.140.51:5060 --json sip:bob@ims.test
expect_exit 0 "an INVITE challenged with AKAv1-MD5 (407), answered from alice's USIM"
expect_match "$OUT_FILE" '"event":"call".*"status":200' "the call was answered"
[ -s "$XDG_STATE_HOME/imsp2p/usim/alice@ims.test.json" ] && pass "the USIM's SEQ_MS kept where ims-register keeps it" ||
  fail "no USIM state in $XDG_STATE_HOME"
run "$call" "${alice[@]}" --proxy sip:127.0.140.51:5060 --message "aka hello" --json sip:bob@ims.test
expect_exit 0 "a MESSAGE challenged with AKAv1-MD5"
wait_for 3 grep -q '"text":"aka hello"' "$TEST_TMP/bob.out" && pass "bob got the MESSAGE" || fail "bob did not get the MESSAGE"
run "$call" "${alice[@]}" --proxy sip:127.0.140.52:5060 --usim-state "$TEST_TMP/alice-b.usim" --json sip:bob@ims.test
expect_exit 0 "an INVITE challenged with AKAv2-MD5"
[ -s "$TEST_TMP/alice-b.usim" ] && pass "--usim-state names the SEQ_MS file" || fail "no --usim-state file"

run "$call" --subscribers "$csv" --impi carol@ims.test --local 127.0.140.53 --media none --duration 0.3 \
  --proxy sip:127.0.140.51:5060 --json sip:bob@ims.test
expect_exit 0 "an INVITE challenged with SHA-256 (before MD5), answered with SHA-256"

run "$call" --subscribers "$TEST_TMP/wrong-k.csv" --impi alice@ims.test --local 127.0.140.53 --media none \
  --usim-state "$TEST_TMP/wrong.usim" --proxy sip:127.0.140.51:5060 sip:bob@ims.test
expect_exit 4 "a USIM with another K: the network fails authentication"
expect_stderr_line "MAC mismatch" "the failure says MAC mismatch"
run "$call" --impu sip:alice@ims.test --local 127.0.140.53 --proxy sip:127.0.140.51:5060 sip:bob@ims.test
expect_exit 4 "an AKA challenge without credentials"
finish
