#!/usr/bin/env bash
# SIP over TLS between our own tools: ims-register -> p2p-node --tls-listen
# (sips: and transport=tls), the node's certificate verified against --tls-ca;
# the precise errors (exit 3) of an untrusted chain and of a certificate that
# names another host; --insecure; a call from one ims-call to another over
# TLS through the node (both legs TLS, the node verifying the callee's
# certificate); --trace of a TLS registration read back with tshark; bad
# input (exit 2).
# Hosts: 127.0.170.1 p2p-node (UDP/TCP 5060, TLS 5061), .2 alice, .3 bob
# (ims-call answering on TLS 5071), .4 a p2p-node with a certificate for .9.
# Usage: sip-tls.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/tls.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
node=$build/tools/p2p-node
t=$TEST_TMP/tls
tls_ca ca
tls_ca other
tls_cert ca node 127.0.170.1
tls_cert ca bob 127.0.170.3
tls_cert ca elsewhere 127.0.170.9
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
CSV
p2p_node_start a 127.0.170.1 5060 "$csv" --json --trace "$TEST_TMP/node.pcap" --tls-listen 127.0.170.1:5061 --tls-cert "$t/node.crt" \
  --tls-key "$t/node.key" --tls-ca "$t/ca.crt"
expect_match "$TEST_TMP/p2p-a/stdout" '"tls":\{"address":"127.0.170.1","port":5061,"verify":true\}' \
  "the node listens on TLS 5061"
p2p_node_start b 127.0.170.4 5060 "$csv" --tls-listen 127.0.170.4:5061 --tls-cert "$t/elsewhere.crt" \
  --tls-key "$t/elsewhere.key" --tls-ca "$t/ca.crt"
alice=(--subscribers "$csv" --impi alice@ims.test --local 127.0.170.2 --timeout 3)

run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-ca "$t/ca.crt" --json
expect_exit 0 "alice registers over TLS (sips:), the node's certificate verified"
cp "$OUT_FILE" "$TEST_TMP/alice.json"
expect_match "$OUT_FILE" '"transport":"tls"' "over TLS"
expect_match "$OUT_FILE" '"contact":"sip:alice@127.0.170.2:[0-9]+;transport=tls"' "with a TLS contact"
expect_match "$OUT_FILE" '"service_route":\["<sips:orig@127.0.170.1:5061;lr>"\]' \
  "the Service-Route keeps her on TLS"
run "$reg" "${alice[@]}" --proxy "sip:127.0.170.1:5061;transport=tls" --tls-ca "$t/ca.crt"
expect_exit 0 "transport=tls instead of sips:"
run "$reg" "${alice[@]}" --proxy sip:127.0.170.1:5061 --transport tls --tls-ca "$t/ca.crt"
expect_exit 0 "--transport tls"

# Verification failures: exit 3, the peer and the reason named.
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-ca "$t/other.crt"
expect_exit 3 "a certificate from a CA not in --tls-ca"
# (The node sends its chain: the test CA arrives at depth 1, self-signed and not ours.)
expect_stderr_line "TLS to sips:127.0.170.1:5061 failed: its certificate \(subject /CN=ca, depth 1 of the chain\) did not verify: self-signed certificate in certificate chain$" \
  "the error names the peer, the certificate and why"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061
expect_exit 3 "without --tls-ca the system's CAs do not know the test CA"
expect_stderr_line "did not verify" "and says so"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.4:5061 --tls-ca "$t/ca.crt"
expect_exit 3 "a trusted certificate that names another host"
expect_stderr_line "TLS to sips:127.0.170.4:5061 failed: its certificate does not name 127.0.170.4 \(no matching subjectAltName or CN\)$" \
  "the error names the host it should have named"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.4:5061 --insecure --json
expect_exit 0 "--insecure skips the verification"

# A call over TLS: alice -> node -> bob, each leg TLS; the node verifies bob.
"$call" --listen 127.0.170.3:5070 --tls-listen 127.0.170.3:5071 --tls-cert "$t/bob.crt" --tls-key "$t/bob.key" \
  --answer --max-calls 1 --json >"$TEST_TMP/bob.out" 2>"$TEST_TMP/bob.err" &
bob_pid=$!
track $bob_pid
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/bob.out" || fail "bob's answerer did not start"
run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy sips:127.0.170.1:5061 --tls-ca "$t/ca.crt" \
  --local 127.0.170.3 --contact "sips:bob@127.0.170.3:5071"
expect_exit 0 "bob registers his TLS answerer (sips: contact)"
run "$call" --registration "$TEST_TMP/alice.json" --tls-ca "$t/ca.crt" --duration 1 --json sip:bob@ims.test
expect_exit 0 "alice calls bob over TLS through the node"
expect_match "$OUT_FILE" '"event":"call".*"status":200' "the call was answered"
for _ in $(seq 50); do kill -0 $bob_pid 2>/dev/null || break; sleep 0.1; done
expect_match "$TEST_TMP/bob.out" '"event":"call".*"status":200' "bob answered it"
grep -q '"method":"INVITE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the node routed the INVITE" ||
  fail "no routed INVITE on the node"
grep -q '"method":"BYE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the BYE passed the node" ||
  fail "the BYE did not pass the node"
if command -v tshark >/dev/null; then
  # The node's own trace: INVITE and BYE reach bob on his TLS port, not UDP 5070.
  tshark -r "$TEST_TMP/node.pcap" -d tcp.port==5061,sip -d tcp.port==5071,sip -Y 'sip.Method == "INVITE" || sip.Method == "BYE"' \
    -T fields -e ip.dst -e tcp.dstport -e udp.dstport -e sip.Method >"$TEST_TMP/to-bob" 2>/dev/null || true
  sed 's/^/  node sent: /' "$TEST_TMP/to-bob" | grep 127.0.170.3 || true
  expect_match "$TEST_TMP/to-bob" $'^127.0.170.3\t5071\t\tINVITE' "the node sent the INVITE to bob over TLS"
  expect_match "$TEST_TMP/to-bob" $'^127.0.170.3\t5071\t\tBYE' "and the BYE too (Record-Route sips:)"
  expect_no_match "$TEST_TMP/to-bob" $'^127.0.170.3\t\t' "nothing to bob over UDP"
fi

run "$call" --subscribers "$csv" --impi alice@ims.test --proxy sips:127.0.170.1:5061 --tls-ca "$t/other.crt" \
  --local 127.0.170.2 --timeout 3 --message hi sip:bob@ims.test
expect_exit 3 "ims-call: a certificate from a CA not in --tls-ca"
expect_stderr_line "TLS to sips:127.0.170.1:5061 failed: its certificate .* did not verify" "ims-call names the TLS failure"

# --trace records the TLS messages in clear.
if command -v tshark >/dev/null; then
  run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-ca "$t/ca.crt" --trace "$TEST_TMP/tls.pcap"
  expect_exit 0 "a traced TLS registration"
  tshark -r "$TEST_TMP/tls.pcap" -d tcp.port==5061,sip -Y sip -T fields -e ip.src -e tcp.srcport -e sip.Method \
    -e sip.Status-Code >"$TEST_TMP/flow" 2>/dev/null || true
  sed 's/^/  flow: /' "$TEST_TMP/flow"
  expect_match "$TEST_TMP/flow" $'^127.0.170.2\t[0-9]+\tREGISTER' "tshark reads the REGISTER in clear"
  expect_match "$TEST_TMP/flow" $'^127.0.170.1\t5061\t\t200' "and the node's 200 OK from port 5061"
else
  echo "SKIP: tshark not installed: the trace check"
fi

# Bad input: exit 2, naming the option.
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-cert "$t/node.crt"
expect_exit 2 "--tls-cert without --tls-key"
expect_stderr_line "--tls-cert needs --tls-key" "says what is missing"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-cert "$t/node.crt" --tls-key "$t/bob.key"
expect_exit 2 "a key that is not the certificate's"
expect_stderr_line "--tls-key .*bob.key is not the key of the certificate in --tls-cert .*node.crt" "names both files"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-ca "$TEST_TMP/none.pem"
expect_exit 2 "a missing CA file"
expect_stderr_line "--tls-ca .*none.pem: No such file or directory" "names the file"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --tls-ca "$csv"
expect_exit 2 "a CA file without a certificate"
expect_stderr_line "--tls-ca .*subscribers.csv: no PEM certificate in it" "says so"
run "$reg" "${alice[@]}" --proxy sip:127.0.170.1:5060 --tls-ca "$t/ca.crt"
expect_exit 2 "TLS options over UDP"
expect_stderr_line "need TLS" "says TLS is not in use"
run "$reg" "${alice[@]}" --proxy sips:127.0.170.1:5061 --transport tcp
expect_exit 2 "a sips: URI over TCP"
expect_stderr_line "is a sips: URI, which needs TLS, not tcp" "says why"
run "$node" --listen 127.0.170.5 --subscribers "$csv" --state-dir "$TEST_TMP/p2p-bad" --domain ims.test --tls-listen 127.0.170.5
expect_exit 2 "p2p-node --tls-listen without a certificate"
expect_stderr_line "needs --tls-cert FILE and --tls-key FILE" "says what it needs"
run "$node" --listen 127.0.170.5 --subscribers "$csv" --state-dir "$TEST_TMP/p2p-bad" --domain ims.test --tls-ca "$t/ca.crt"
expect_exit 2 "p2p-node TLS options without --tls-listen"
expect_stderr_line "need --tls-listen" "says so"
run "$call" --listen 127.0.170.5 --tls-listen 127.0.170.5
expect_exit 2 "ims-call --tls-listen without a certificate"

finish
