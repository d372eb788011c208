#!/usr/bin/env bash
# p2p-node as the registrar of a plain RFC 3261 client, sipsak: MD5 Digest
# over UDP and TCP, a query that lists the binding, expiry, wrong and unknown
# users, OPTIONS, and the node's own contract (port in use, malformed CSV,
# SIGTERM).
# Hosts: 127.0.41.1 p2p-node, .2 sipsak, .3/.4 sipsak's contacts.
# Usage: p2p-node-sipsak.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
node=$build/tools/p2p-node
sipsak=(sipsak --local-ip=127.0.41.2)

cat >"$TEST_TMP/subscribers.csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,md5,alice-secret,,,,,
bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
CSV

"$node" --listen 127.0.41.1:5060 --subscribers "$TEST_TMP/subscribers.csv" --state-dir "$TEST_TMP/state" \
  --domain ims.test --json >"$TEST_TMP/node.out" 2>"$TEST_TMP/node.err" &
node_pid=$!
track $node_pid
if wait_for 10 grep -q '"event":"listening"' "$TEST_TMP/node.out"; then
  pass "p2p-node is listening"
else
  fail "p2p-node did not start"; cat "$TEST_TMP/node.err"; finish; exit 1
fi
expect_match "$TEST_TMP/node.out" '"transports":\["udp","tcp"\]' "listening on UDP and TCP"
expect_match "$TEST_TMP/node.out" '"address":"127.0.41.1".*"port":5060' "listening event names address and port"
if [ -f "$TEST_TMP/state/hss.sqlite" ]; then pass "subscribers imported into state/hss.sqlite"; else fail "no hss.sqlite"; fi

# OPTIONS ping.
run "${sipsak[@]}" -s sip:127.0.41.1:5060
expect_exit 0 "OPTIONS is answered 200"

# sipsak registers with MD5, authenticating as "alice" (the user part only).
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:alice@127.0.41.3:5070 -s sip:alice@ims.test -u alice -a alice-secret -x 600 -i
expect_exit 0 "sipsak registers alice with MD5 Digest"
wait_for 5 grep -q '"event":"registered"' "$TEST_TMP/node.out" || true
expect_match "$TEST_TMP/node.out" '"event":"registered".*"algorithm":"MD5".*"contact":"sip:alice@127.0.41.3:5070","expires":600' \
  "registered event with the contact and its expiry"

# A REGISTER without Contact (a query) lists the binding in its 200 OK.
printf 'REGISTER sip:ims.test SIP/2.0\r\nFrom: <sip:alice@ims.test>;tag=q1\r\nTo: <sip:alice@ims.test>\r\nCall-ID: query-%s@127.0.41.2\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
  "$$" >"$TEST_TMP/query.sip"
query() { "${sipsak[@]}" -f "$TEST_TMP/query.sip" -s sip:alice@127.0.41.1:5060 -u alice -a alice-secret -vv; }
run query
expect_exit 0 "sipsak queries alice's bindings"
expect_match "$OUT_FILE" '^Contact: <sip:alice@127.0.41.3:5070>;expires=(59[0-9]|600)' "the query's 200 OK lists the binding"
expect_match "$OUT_FILE" '^Service-Route: <sip:orig@127.0.41.1:5060;lr>' "Service-Route of this node"
expect_match "$OUT_FILE" '^P-Associated-URI: <sip:alice@ims.test>, <tel:\+15550100>' "P-Associated-URI lists every IMPU"

# Over TCP, a second contact.
run "${sipsak[@]}" --transport=tcp -p 127.0.41.1:5060 -U -C sip:alice@127.0.41.3:5071 -s sip:alice@ims.test -u alice -a alice-secret -x 600 -i
expect_exit 0 "sipsak registers a second contact over TCP"
expect_match "$TEST_TMP/node.out" '"source":"tcp:127.0.41.2:' "the TCP registration is reported with its source"

# A one-second registration is gone two seconds later.
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:alice@127.0.41.4:5070 -s sip:alice@ims.test -u alice -a alice-secret -x 1 -i
expect_exit 0 "sipsak registers a contact for 1 s"
sleep 2
run query
expect_no_match "$OUT_FILE" '127.0.41.4' "the 1 s binding has expired"
expect_match "$OUT_FILE" '<sip:alice@127.0.41.3:5070>' "the 600 s binding stays"

# Wrong password: 403, sipsak fails; then the right one works again (no lockout).
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:alice@127.0.41.3:5070 -s sip:alice@ims.test -u alice -a wrong -x 600 -i
if [ "$RC" -ne 0 ]; then pass "wrong password: sipsak exits $RC"; else fail "wrong password: sipsak exits 0"; fi
expect_match "$ERR_FILE" '^SIP/2.0 403 Forbidden' "wrong password answered 403"
expect_match "$TEST_TMP/node.out" '"event":"auth_failed".*"reason":"wrong_response"' "auth_failed event for the wrong password"
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:alice@127.0.41.3:5070 -s sip:alice@ims.test -u alice -a alice-secret -x 600 -i
expect_exit 0 "the right password works after a wrong one"

# Unknown user: 403.
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:mallory@127.0.41.3:5070 -s sip:mallory@ims.test -u mallory -a x -x 600 -i
if [ "$RC" -ne 0 ]; then pass "unknown user: sipsak exits $RC"; else fail "unknown user: sipsak exits 0"; fi
expect_match "$ERR_FILE" '^SIP/2.0 403 Forbidden' "unknown user answered 403"
expect_match "$TEST_TMP/node.out" '"event":"auth_failed".*"reason":"unknown_user"' "auth_failed event for the unknown user"

# AKA subscribers are challenged with AKAv1-MD5 (sipsak cannot answer it).
run "${sipsak[@]}" -p 127.0.41.1:5060 -U -C sip:bob@127.0.41.3:5070 -s sip:bob@ims.test -u bob -a x -x 600 -i
expect_match "$ERR_FILE" 'WWW-Authenticate: Digest realm="ims.test", nonce="[A-Za-z0-9+/=]+", qop="auth", algorithm=AKAv1-MD5' \
  "bob is challenged with AKAv1-MD5"

expect_no_match "$TEST_TMP/node.out" 'alice-secret|465b5ce8b199b49faa5f0a2ee238a6bc' "no secret in the node's output"

# A second node on the same port: exit 5 with one line.
run "$node" --listen 127.0.41.1:5060 --subscribers "$TEST_TMP/subscribers.csv" --state-dir "$TEST_TMP/state2" --domain ims.test
expect_exit 5 "a second p2p-node on the same port"
expect_stderr_line '^p2p-node: error: cannot listen on udp 127.0.41.1:5060: Address already in use$' "port in use message"

# A malformed subscriber file: exit 2 naming the file, line and column.
cat >"$TEST_TMP/bad.csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
carol@ims.test,sip:carol@ims.test,sha1,x,,,,,
CSV
run "$node" --listen 127.0.41.1:5062 --subscribers "$TEST_TMP/bad.csv" --state-dir "$TEST_TMP/state3" --domain ims.test
expect_exit 2 "a malformed subscriber file"
expect_stderr_line "bad\.csv:3:35: auth must be md5 or aka, not 'sha1'$" "CSV error names line and column"

# SIGTERM: exit 0, promptly.
kill -TERM $node_pid
stopped=1
for _ in $(seq 50); do kill -0 $node_pid 2>/dev/null || { stopped=0; break; }; sleep 0.1; done
if [ $stopped -eq 0 ]; then
  set +e; wait $node_pid; rc=$?; set -e
  if [ $rc -eq 0 ]; then pass "SIGTERM stops p2p-node with exit 0"; else fail "exit $rc on SIGTERM"; cat "$TEST_TMP/node.err"; fi
else
  fail "p2p-node still running 5 s after SIGTERM"
fi

finish
