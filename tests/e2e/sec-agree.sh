#!/usr/bin/env bash
# sec-agree (RFC 3329, TS 33.203) between ims-register and p2p-node's P-CSCF
# side: the ipsec-3gpp offer and answer, Security-Verify, the ESP keys from
# IK and CK, and the SA step: installed where the kernel has xfrm ESP (as
# root), reported as unavailable otherwise; --sec-sa none negotiates only.
# Hosts: 127.0.122.1 p2p-node --sec-agree, .3 p2p-node without it, .2 the UE.
# Usage: sec-agree.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
p2p_node_start sec 127.0.122.1 5060 "$csv" --sec-agree --sec-agree-ports 5162:5163
p2p_node_start plain 127.0.122.3 5060 "$csv"
alice=(--subscribers "$csv" --impi alice@ims.test --usim-state "$TEST_TMP/alice.usim" --local 127.0.122.2 --timeout 3)
sec=$(printf '%s' '"sec_agree":')

# Negotiation only: the header exchange and the keys, no SAs.
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-sa none --json
expect_exit 0 "sec-agree without SAs registers"
expect_match "$OUT_FILE" "$sec"'\{"alg":"hmac-sha-1-96"' "the first offered integrity algorithm was chosen"
expect_match "$OUT_FILE" '"ealg":"aes-cbc"' "and the first encryption algorithm"
expect_match "$OUT_FILE" '"pcscf":\{"port_c":5162,"port_s":5163,"spi_c":[0-9]+,"spi_s":[0-9]+\}' "the P-CSCF's ports and SPIs"
expect_match "$OUT_FILE" '"ik_esp_bits":160' "IK_ESP for HMAC-SHA-1-96 is 160 bits"
expect_match "$OUT_FILE" '"ck_esp_bits":128' "CK_ESP for AES-CBC is 128 bits"
expect_match "$OUT_FILE" '"sa":"none"' "no SAs asked for"
expect_match "$OUT_FILE" '"pcscf_address":"127.0.122.1"' "the P-CSCF address the 401 came from"
expect_no_match "$OUT_FILE" '"ik_esp"|"ck_esp"|"ik"|"ck"' "no keys without --show-keys"
expect_stderr_line "the REGISTER answering the challenge goes unprotected" "--sec-sa none says what it leaves out"
expect_match "$TEST_TMP/p2p-sec/stderr" "header exchange only" "the node says it installs no SAs"

# The ESP keys from the AKA run's IK and CK (TS 33.203 Annex I).
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-sa none --json --show-keys
expect_exit 0 "sec-agree with --show-keys"
python3 - "$OUT_FILE" <<'PY' && pass "IK_ESP = IK || 32 zero bits, CK_ESP = CK" || fail "ESP keys do not derive from IK and CK"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"registered"' in l][-1]
s = r["sec_agree"]
sys.exit(0 if s["ik_esp"] == r["ik"] + "00000000" and s["ck_esp"] == r["ck"] else 1)
PY
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-sa none --sec-alg hmac-md5-96 --sec-ealg null --json --show-keys
expect_exit 0 "sec-agree with HMAC-MD5-96 and no encryption"
python3 - "$OUT_FILE" <<'PY' && pass "HMAC-MD5-96: IK_ESP = IK; null: no CK_ESP" || fail "MD5/null keys wrong"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"registered"' in l][-1]
s = r["sec_agree"]
sys.exit(0 if (s["alg"], s["ealg"], s["ik_esp"], s["ck_esp"], s["ik_esp_bits"]) == ("hmac-md5-96", "null", r["ik"], "", 128) else 1)
PY

# The default installs the SAs: where the kernel cannot, the run stops there, naming why.
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --json
rc=$RC
if [ "$rc" = 5 ]; then
  expect_stderr_line "cannot install the IPsec SAs|needs root" "the SA step is reported as unavailable"
  expect_match "$OUT_FILE" '"event":"failed"' "a failed event"
  expect_match "$OUT_FILE" '"sa":"unavailable"' "with the negotiation's outcome and the SA step unavailable"
  grep -q "Requested type not found" "$ERR_FILE" && echo "info: this kernel has no xfrm ESP: $(grep -o 'ip xfrm: .*' "$ERR_FILE" | head -1)"
else
  # A kernel with xfrm ESP, as root: the SAs went in, and the REGISTER to the
  # node's protected port (which p2p-node does not serve) found no answer.
  expect_exit 3 "SAs installed; no answer on the node's protected port"
  [ -z "$(ip xfrm state list src 127.0.122.2 2>/dev/null)" ] && pass "the SAs were removed at exit" || fail "SAs left behind"
fi

# A registrar without sec-agree refuses Require: sec-agree (420).
run "$reg" "${alice[@]}" --proxy sip:127.0.122.3:5060 --sec-agree --sec-sa none
expect_exit 1 "no sec-agree at the registrar"
expect_stderr_line "does not support sec-agree \(420" "420 Bad Extension reported"

# Bad input.
run "$reg" --subscribers "$csv" --impi carol@ims.test --proxy sip:127.0.122.1:5060 --local 127.0.122.2 --sec-agree
expect_exit 2 "sec-agree needs AKA credentials"
expect_stderr_line "needs IMS AKA credentials" "MD5 subscriber refused"
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-alg hmac-sha-256-128
expect_exit 2 "unknown integrity algorithm"
expect_stderr_line "--sec-alg 'hmac-sha-256-128' is not supported" "unknown algorithm named"
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-ports 5070:5070
expect_exit 2 "equal protected ports"
run "$reg" "${alice[@]}" --proxy sip:127.0.122.1:5060 --sec-agree --sec-ports 99999:5
expect_exit 2 "port out of range"
expect_stderr_line "'99999' is not a port number" "bad port named"
run "$reg" --subscribers "$csv" --proxy sip:127.0.122.1:5060 --local 127.0.122.2 --count 1 --sec-agree
expect_exit 2 "sec-agree in load mode"
run "$build/tools/p2p-node" --listen 127.0.122.4 --subscribers "$csv" --state-dir "$TEST_TMP/bad" --domain ims.test --sec-agree --sec-agree-ports 1:x
expect_exit 2 "p2p-node: bad --sec-agree-ports"

finish
