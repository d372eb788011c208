#!/usr/bin/env bash
# license-fetch --registration: the identity comes from what ims-register
# --json printed (a file, or a pipe on stdin), the secret from the same
# options ims-register takes (--subscribers, --password, --k with --opc).
# alice (MD5) and bob (AKA) register with a p2p-node from the subscriber CSV
# the licence server imports too, then buy licences as the registered IMPI.
# Hosts: 127.0.0.111 p2p-node (5060), 127.0.0.112 the licence server (8080) and the UEs.
# Usage: license-registration.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
fetch=$build/tools/license-fetch
server=http://127.0.0.112:8080
cd "$TEST_TMP"
export XDG_STATE_HOME=$TEST_TMP/state
k=465b5ce8b199b49faa5f0a2ee238a6bc opc=cd63cb71954a9f4e48a5994e37a02baf
cat >subs.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
bob@ims.test,sip:bob@ims.test,aka,,$k,,$opc,8000,000000000040
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
p2p_node_start n 127.0.0.111 5060 subs.csv --ind 1
license_start ls 127.0.0.112:8080 subs.csv --ind 2
license_admin ls publisher carol@ims.test
kid=00112233445566778899aabbccddeeff
key=$(python3 -c 'import base64; print(base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("="))')
[ "$(http_status put.body --digest -u carol@ims.test:carol-secret -X PUT --data "{\"k\":\"$key\",\"policy\":\"free\"}" \
  $server/keys/$kid)" = 201 ] && pass "a free key deposited" || fail "deposit: $(cat put.body)"

run "$reg" --subscribers subs.csv --impi alice@ims.test --proxy sip:127.0.0.111:5060 --local 127.0.0.112 --json
expect_exit 0 "alice registers (MD5)"
cp "$OUT_FILE" alice.json
run "$fetch" --registration alice.json --subscribers subs.csv --kid $kid --server $server --output alice-lic.json --json
expect_exit 0 "license-fetch --registration FILE --subscribers: alice's licence"
expect_match alice-lic.json "\"k\":\"$key\"" "alice's licence holds the key"
run "$fetch" --registration alice.json --password wrong --kid $kid --server $server --output x.json
expect_exit 4 "license-fetch --registration with a wrong --password"
expect_stderr_line "rejected the credentials of alice@ims.test" "the registration's IMPI is the one refused"

# bob: AKA, his registration piped straight in, K and OPc as flags; the USIM
# state ims-register left is the one license-fetch continues.
run sh -c "\"$reg\" --impu sip:bob@ims.test --k $k --opc $opc --proxy sip:127.0.0.111:5060 --local 127.0.0.112 --json |
  \"$fetch\" --registration - --k $k --opc $opc --kid $kid --server $server --output bob-lic.json --json"
expect_exit 0 "ims-register --json | license-fetch --registration - --k --opc: bob's licence (AKA)"
expect_match "$OUT_FILE" '"algorithm":"AKAv1-MD5"' "bob authenticated with AKAv1-MD5"
expect_match bob-lic.json "\"k\":\"$key\"" "bob's licence holds the key"
run "$build/tools/license-server" cdr --state-dir ls --json
expect_match "$OUT_FILE" '"impi":"bob@ims.test"' "the CDR names the registered IMPI"

# Bad input: exit 2 with the reason.
run "$fetch" --registration missing.json --password x --kid $kid --server $server --output x.json
expect_exit 2 "--registration: a missing file"
expect_stderr_line "--registration: cannot read missing.json" "missing file message"
echo 'not json' >bad.json
run "$fetch" --registration bad.json --password x --kid $kid --server $server --output x.json
expect_exit 2 "--registration: not JSON"
expect_stderr_line "bad.json:1: not JSON" "not JSON message"
grep -v '"event":"registered"' alice.json >unregistered.json || true
echo '{"event":"failed","impi":"alice@ims.test"}' >>unregistered.json
run "$fetch" --registration unregistered.json --password x --kid $kid --server $server --output x.json
expect_exit 2 "--registration: no registered event"
expect_stderr_line "no \"registered\" event in unregistered.json" "no registered event message"
run "$fetch" --registration alice.json --kid $kid --server $server --output x.json
expect_exit 2 "--registration without a secret"
expect_stderr_line "missing credentials" "no secret message"
expect_no_match "$TEST_TMP/ls.err" "secret|$key" "no password or key in the server's diagnostics"
finish
