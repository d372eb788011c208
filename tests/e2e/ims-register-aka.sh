#!/usr/bin/env bash
# ims-register against p2p-node's registrar: IMS AKA (AKAv1, AKAv2) with
# resynchronisation and SQN persistence, MD5 and SHA-256 Digest.
# Hosts: 127.0.13.1 p2p-node (AKAv1, MD5), .2 the UE, .3 p2p-node (AKAv2,
# SHA-256). Usage: ims-register-aka.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
k=465b5ce8b199b49faa5f0a2ee238a6bc
op=cdc202d5123e20f62b6d676ac72cb318
opc=cd63cb71954a9f4e48a5994e37a02baf # OPc of that K and OP (TS 35.208 set 1)
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,aka,,$k,$op,,8000,000000000020
bob@ims.test,sip:bob@ims.test,aka,,$k,,$opc,8000,000000000000
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
# What the UE holds when it is provisioned wrongly.
sed "s/^alice@ims.test,\(.*\),aka,,$k,/alice@ims.test,\1,aka,,00112233445566778899aabbccddeeff,/" "$csv" >"$TEST_TMP/wrong-k.csv"
sed "s/,$op,/,00000000000000000000000000000001,/" "$csv" >"$TEST_TMP/wrong-op.csv"

p2p_node_start a 127.0.13.1 5060 "$csv"
ue=(--proxy sip:127.0.13.1:5060 --local 127.0.13.2 --timeout 3)
alice=(--subscribers "$csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim")

run "$reg" "${alice[@]}" "${ue[@]}" --json
expect_exit 0 "AKAv1-MD5 registration"
expect_match "$OUT_FILE" '"algorithm":"AKAv1-MD5"' "answered an AKAv1-MD5 challenge"
expect_match "$OUT_FILE" '"resynchronised":false' "no resynchronisation needed"
expect_match "$OUT_FILE" '"p_associated_uri":\["<sip:alice@ims.test>","<tel:\+15550100>"\]' "implicit registration set in P-Associated-URI"
expect_match "$OUT_FILE" '"service_route":\["<sip:orig@127.0.13.1:5060;lr>"\]' "Service-Route of the node"
expect_no_match "$OUT_FILE" '"ck"|"ik"' "no CK or IK without --show-keys"
expect_match "$TEST_TMP/alice.usim" '"seq_ms"' "the USIM state was written"

run "$reg" "${alice[@]}" "${ue[@]}" --json --show-keys
expect_exit 0 "AKAv1-MD5 registration again"
expect_match "$OUT_FILE" '"ck":"[0-9a-f]{32}"' "CK with --show-keys"
expect_match "$OUT_FILE" '"ik":"[0-9a-f]{32}"' "IK with --show-keys"

# OP given as OPc in the file.
run "$reg" --subscribers "$csv" --impi bob@ims.test --usim-state "$TEST_TMP/bob.usim" "${ue[@]}"
expect_exit 0 "AKA with OPc instead of OP"

# The UE's K differs from the network's: the network is not authentic to it.
run "$reg" --subscribers "$TEST_TMP/wrong-k.csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim" "${ue[@]}"
expect_exit 4 "wrong K"
expect_stderr_line "the network failed authentication: MAC mismatch" "wrong K message"
run "$reg" --subscribers "$TEST_TMP/wrong-op.csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim" "${ue[@]}"
expect_exit 4 "wrong OP"
expect_stderr_line "MAC mismatch" "wrong OP message"
# The failures did not lock the account.
run "$reg" "${alice[@]}" "${ue[@]}"
expect_exit 0 "the right credentials still work after failures"

# The USIM has seen a SEQ far beyond the network's: resynchronise, then register.
python3 - "$TEST_TMP/alice.usim" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
state["seq_ms"][0] = 5000
json.dump(state, open(sys.argv[1], "w"))
PY
run "$reg" "${alice[@]}" "${ue[@]}" --json
expect_exit 0 "SQN out of range: resynchronisation, then success"
expect_match "$OUT_FILE" '"resynchronised":true' "resynchronised reported"
run "$reg" "${alice[@]}" "${ue[@]}" --json
expect_exit 0 "next registration after the resynchronisation"
expect_match "$OUT_FILE" '"resynchronised":false' "the network continues from the UE's SQN"

# The node restarts: it must not reuse an SQN the UE has already accepted.
p2p_node_stop a
p2p_node_start a 127.0.13.1 5060 "$csv"
run "$reg" "${alice[@]}" "${ue[@]}" --json
expect_exit 0 "registration after the node restarted"
expect_match "$OUT_FILE" '"resynchronised":false' "no SQN reused after the restart"

# MD5 Digest against the same node.
run "$reg" --subscribers "$csv" --impi carol@ims.test "${ue[@]}" --json
expect_exit 0 "MD5 Digest registration"
expect_match "$OUT_FILE" '"algorithm":"MD5"' "answered MD5"
run "$reg" --impu sip:carol@ims.test --password wrong "${ue[@]}"
expect_exit 4 "MD5 with a wrong password"

# AKAv2-MD5 and SHA-256 on a second node.
p2p_node_start b 127.0.13.3 5060 "$csv" --aka-version 2 --digest-algorithm sha-256
ue_b=(--proxy sip:127.0.13.3:5060 --local 127.0.13.2 --timeout 3)
run "$reg" --subscribers "$csv" --impi bob@ims.test --usim-state "$TEST_TMP/bob-b.usim" "${ue_b[@]}" --json
expect_exit 0 "AKAv2-MD5 registration"
expect_match "$OUT_FILE" '"algorithm":"AKAv2-MD5"' "answered an AKAv2-MD5 challenge"
run "$reg" --subscribers "$csv" --impi carol@ims.test "${ue_b[@]}" --json
expect_exit 0 "SHA-256 Digest registration"
expect_match "$OUT_FILE" '"algorithm":"SHA-256"' "answered SHA-256 (preferred over MD5)"

# Load mode with AKA subscribers.
run "$reg" --subscribers "$csv" "${ue[@]}" --count 30 --json
expect_exit 0 "load mode over AKA and MD5 subscribers"
expect_match "$OUT_FILE" '"failures":0' "load mode: no failures"

# A UE without AKA credentials facing an AKA challenge.
run "$reg" --impu sip:alice@ims.test --impi alice@ims.test --password x "${ue[@]}"
expect_exit 4 "AKA challenge for a password-only UE"
expect_stderr_line "asks for AKAv1-MD5, but alice@ims.test has no AKA credentials" "no AKA credentials message"

finish
