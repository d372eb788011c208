#!/usr/bin/env bash
# license-server and license-fetch: deposits, the three policies, charging
# and every bad input of issue 7 with its exact HTTP status (through curl,
# which speaks Digest MD5) and license-fetch's exit codes.
# Hosts: 127.0.0.70 the licence server (8080), 127.0.0.79 an address nobody serves
# (also a second client's source address).
# Usage: license-server.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
fetch=$build/tools/license-fetch
server=http://127.0.0.70:8080
cd "$TEST_TMP"
export XDG_STATE_HOME=$TEST_TMP/state
license_subscribers subs.csv

# --- usage errors of the server ---
run "$build/tools/license-server" --state-dir ls0 --listen 127.0.0.70:8080
expect_exit 2 "server: no --domain"
expect_stderr_line "--domain DOMAIN is required" "server: --domain message"
run "$build/tools/license-server" --state-dir ls0 --domain ims.test --listen 10.1.2.3:8080
expect_exit 2 "server: plain HTTP off loopback"
expect_stderr_line "plain HTTP is only served on loopback" "server: loopback message"
run "$build/tools/license-server" --state-dir ls0 --domain ims.test --cert nothing.pem
expect_exit 2 "server: --cert without --key"

license_start ls 127.0.0.70:8080 subs.csv --max-body 1024 --max-failures 3 --max-address-failures 6
license_admin ls publisher carol@ims.test
license_admin ls credit bob@ims.test 100

kid_free=00112233445566778899aabbccddeeff
kid_sub=0102030405060708090a0b0c0d0e0f10
kid_ppd=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' "$1"; }
key=$(b64 5f5e5d5c5b5a59585756555453525150)
put() { # put USER:PASS KID POLICY PRICE
  http_status put.body --digest -u "$1" -X PUT -H 'Content-Type: application/json' \
    --data "{\"k\":\"$key\",\"policy\":\"$3\",\"price\":$4,\"content_id\":\"c-$2\"}" "$server/keys/$2"
}
[ "$(put carol@ims.test:carol-secret $kid_free free 0)" = 201 ] && pass "deposit: a free key (201)" || fail "deposit free: $(cat put.body)"
[ "$(put carol@ims.test:carol-secret $kid_sub subscription 0)" = 201 ] && pass "deposit: a subscription key" || fail "deposit sub"
[ "$(put carol@ims.test:carol-secret $kid_ppd pay-per-download 30)" = 201 ] && pass "deposit: a pay-per-download key" || fail "deposit ppd"
[ "$(put carol@ims.test:carol-secret $kid_ppd pay-per-download 40)" = 200 ] && pass "deposit: the owner updates its key (200)" || fail "redeposit"
[ "$(put alice@ims.test:alice-secret 11112222333344445555666677778888 free 0)" = 403 ] &&
  pass "deposit: a subscriber without the publisher role gets 403" || fail "deposit by non-publisher: $(cat put.body)"
license_admin ls publisher dave@ims.test
[ "$(put dave@ims.test:dave-secret $kid_ppd free 0)" = 403 ] &&
  pass "deposit: another publisher's KID gets 403" || fail "deposit over another's KID: $(cat put.body)"
[ "$(put carol@ims.test:carol-secret $kid_free pay-per-download 0)" = 400 ] && pass "deposit: ppd without price gets 400" || fail "ppd no price"
# The database and its WAL: the raw key must be in neither.
if python3 -c 'import sys; sys.exit(0 if any(bytes.fromhex("5f5e5d5c5b5a59585756555453525150") in open(f,"rb").read() for f in sys.argv[1:]) else 1)' ls/license.sqlite*; then
  fail "the content key is in the database in the clear"
else
  pass "content keys are not stored in the clear"
fi

# --- license-fetch: the three policies, MD5 and AKA ---
run "$fetch" --kid $kid_free --server $server --impi alice@ims.test --subscribers subs.csv --output free.json --json
expect_exit 0 "fetch: free content (MD5 subscriber)"
[ "$(stat -c %a free.json)" = 600 ] && pass "the licence file has mode 0600" || fail "licence mode $(stat -c %a free.json)"
expect_match free.json '"kty":"oct"' "the licence is a Clear Key JWK set"
expect_match free.json "\"k\":\"$key\"" "the licence holds the deposited key"
expect_match "$OUT_FILE" '"algorithm":"SHA-256"' "license-fetch answered the SHA-256 challenge"
expect_no_match "$OUT_FILE" "$key|alice-secret" "no key or password in the output"
run "$fetch" --kid $kid_free --server $server --impi bob@ims.test --subscribers subs.csv --output bob-free.json --json
expect_exit 0 "fetch: free content (AKA subscriber)"
expect_match "$OUT_FILE" '"algorithm":"AKAv1-MD5"' "license-fetch answered with AKAv1-MD5"
run "$fetch" --kid $kid_sub --server $server --impi alice@ims.test --subscribers subs.csv --output sub.json
expect_exit 4 "fetch: subscription content without a subscription (403)"
expect_stderr_line "not entitled: " "fetch: 403 message"
[ ! -e sub.json ] && pass "no licence file after a refusal" || fail "a licence file after 403"
license_admin ls subscribe alice@ims.test --days 1
run "$fetch" --kid $kid_sub --server $server --impi alice@ims.test --subscribers subs.csv --output sub.json
expect_exit 0 "fetch: subscription content with a subscription"
run "$fetch" --kid $kid_ppd --server $server --impi alice@ims.test --password alice-secret --output ppd.json
expect_exit 1 "fetch: paid content with no balance (402)"
expect_stderr_line "payment required: " "fetch: 402 message"
run "$fetch" --kid $kid_ppd --server $server --impi bob@ims.test --subscribers subs.csv --output ppd.json --request-id buy-1
expect_exit 0 "fetch: paid content with a balance"
run "$fetch" --kid $kid_ppd --server $server --impi bob@ims.test --subscribers subs.csv --output ppd.json --request-id buy-1
expect_exit 0 "fetch: the same request id again"
run "$build/tools/license-server" admin show --state-dir ls --json
balance=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e=json.loads(l)
    if e.get("impi")=="bob@ims.test": print(e["balance"])' "$OUT_FILE")
[ "$balance" = 60 ] && pass "a retried request id is charged once (balance 100 - 40)" || fail "balance $balance, expected 60"
run "$build/tools/license-server" cdr --state-dir ls --json
[ "$(grep -c '"event":"cdr"' "$OUT_FILE")" = 4 ] && pass "one CDR per granted licence (4)" || fail "$(grep -c cdr "$OUT_FILE") CDRs"
expect_match "$OUT_FILE" '"request_id":"buy-1"' "the CDR carries the request id"
expect_match "$OUT_FILE" '"price":40' "the CDR carries the price"
run "$fetch" --kid ffffffffffffffffffffffffffffffff --server $server --impi alice@ims.test --subscribers subs.csv --output x.json
expect_exit 1 "fetch: unknown KID (404)"
expect_stderr_line "unknown KID: " "fetch: 404 message"
run "$fetch" --kid $kid_free --server $server --impi alice@ims.test --password wrong --output x.json
expect_exit 4 "fetch: wrong password"
expect_stderr_line "rejected the credentials of alice@ims.test" "fetch: wrong password message"
run "$fetch" --kid $kid_free --server http://127.0.0.79:8080 --impi alice@ims.test --password x --output x.json --timeout 1
expect_exit 3 "fetch: no server"
expect_stderr_line "no answer from http://127.0.0.79:8080" "fetch: no server message"
run "$fetch" --kid 1234 --server $server --impi alice@ims.test --password x --output x.json
expect_exit 2 "fetch: a malformed KID"
run "$fetch" --kid $kid_free --server ftp://x --impi alice@ims.test --password x --output x.json
expect_exit 2 "fetch: a malformed server URL"
run "$fetch" --kid $kid_free --server $server --output x.json
expect_exit 2 "fetch: no credentials"

# --- bad input, exact statuses (curl speaks Digest MD5) ---
auth=(--digest -u alice@ims.test:alice-secret -H 'Content-Type: application/json')
body_ok="{\"kids\":[\"$(b64 $kid_free)\"],\"type\":\"temporary\"}"
[ "$(http_status r.body -X POST "$server/license" --data "$body_ok")" = 401 ] &&
  expect_match r.body '"error":"unauthorized"' "no credentials: 401 with an error body" || fail "no credentials: not 401"
curl -s -D headers.txt -o /dev/null -X POST "$server/license" --data "$body_ok" || true
expect_match headers.txt '^WWW-Authenticate: Digest realm="ims.test", nonce="[^"]+", qop="auth", algorithm=MD5' "401 carries an MD5 challenge"
[ "$(http_status r.body "${auth[@]}" "$server/license" --data '{"kids":[')" = 400 ] &&
  pass "malformed JSON: 400" || fail "malformed JSON: $(cat r.body)"
expect_match r.body '"error":"malformed_json"' "malformed JSON: error code"
[ "$(http_status r.body "${auth[@]}" "$server/license" --data '{"kids":"x"}')" = 400 ] && pass "kids not an array: 400" || fail "kids not array"
head -c 2000 /dev/zero | tr '\0' 'a' >big.json
[ "$(http_status r.body "${auth[@]}" "$server/license" --data @big.json)" = 413 ] && pass "oversized body: 413" || fail "oversized: $(cat r.body)"
[ "$(http_status r.body "${auth[@]}" "$server/license" --data "{\"kids\":[\"$(b64 ffffffffffffffffffffffffffffffff)\"]}")" = 404 ] &&
  pass "unknown KID: 404" || fail "unknown KID: $(cat r.body)"
[ "$(http_status r.body "${auth[@]}" "$server/license" --data "{\"kids\":[\"$(b64 $kid_ppd)\"]}")" = 402 ] &&
  pass "someone else's paid content, no balance: 402" || fail "ppd: $(cat r.body)"
[ "$(http_status r.body --digest -u dave@ims.test:dave-secret "$server/license" --data "{\"kids\":[\"$(b64 $kid_sub)\"]}")" = 403 ] &&
  pass "someone else's subscription content: 403" || fail "sub: $(cat r.body)"
[ "$(http_status r.body -X GET "${auth[@]}" "$server/license")" = 405 ] && pass "GET /license: 405" || fail "GET: $(cat r.body)"
# A replayed Authorization (same nonce, same nc) is challenged again.
curl -s -v -o /dev/null "${auth[@]}" "$server/license" --data "$body_ok" 2>trace.txt || true
authz=$(sed -n 's/^> Authorization: //p' trace.txt | tr -d '\r')
[ -n "$authz" ] && pass "captured curl's Authorization" || fail "no Authorization in curl's trace"
[ "$(http_status r.body -H "Authorization: $authz" -H 'Content-Type: application/json' "$server/license" --data "$body_ok")" = 401 ] &&
  pass "replayed nonce and nc: 401" || fail "replay: $(cat r.body)"
# Wrong passwords: 401 each time, then the identity is throttled (429), even
# with the right one. license-fetch's wrong password above was the first of 3.
for i in 1 2; do
  [ "$(http_status r.body --digest -u alice@ims.test:guess$i "$server/license" --data "$body_ok")" = 401 ] ||
    fail "wrong password $i: not 401"
done
pass "wrong passwords: 401"
curl -s -D headers.txt -o r.body --digest -u alice@ims.test:alice-secret "$server/license" --data "$body_ok" || true
expect_match headers.txt '^HTTP/1.1 429' "too many failures: 429 with the right password too"
expect_match headers.txt '^Retry-After: [0-9]+' "429 carries Retry-After"
run "$fetch" --kid $kid_free --server $server --impi alice@ims.test --subscribers subs.csv --output x.json
expect_exit 4 "fetch: a throttled identity"
expect_stderr_line "throttled: " "fetch: 429 message"
[ "$(http_status r.body --digest -u carol@ims.test:carol-secret "$server/license" --data "$body_ok")" = 200 ] &&
  pass "other identities are not throttled" || fail "carol: $(cat r.body)"
# Failures from one source address, whatever the names: alice's from
# 127.0.0.1 so far, then names nobody has (401 each) until the address is
# throttled (6 within 60 s): then 429 with Retry-After for every
# identity, while another source address is not.
statuses=""
for i in 1 2 3 4 5 6 7; do
  status=$(http_status r.body --digest -u "mallory$i@ims.test:guess" "$server/license" --data "$body_ok")
  statuses="$statuses $status"
  [ "$status" = 429 ] && break
done
case "$statuses" in *" 401"*" 429") pass "unknown users: 401 until the address is throttled ($statuses)" ;;
  *) fail "unknown users: $statuses" ;; esac
curl -s -D headers.txt -o r.body --digest -u carol@ims.test:carol-secret "$server/license" --data "$body_ok" || true
expect_match headers.txt '^HTTP/1.1 429' "too many failures from one address: 429 for another identity too"
expect_match headers.txt '^Retry-After: [0-9]+' "the address's 429 carries Retry-After"
expect_match r.body 'too many failed attempts from this address' "the 429 says the address is throttled"
[ "$(http_status r.body --interface 127.0.0.79 --digest -u carol@ims.test:carol-secret "$server/license" --data "$body_ok")" = 200 ] &&
  pass "another source address is not throttled" || fail "carol from 127.0.0.79: $(cat r.body)"
# Idle connections are closed after 5 s (the front's one timer per
# connection, not reset per request): one silent, one stalled mid-header,
# one used once then silent; none is closed early.
idle=$(python3 - <<'PY'
import socket, threading, time
def wait_close(send):
    s = socket.create_connection(("127.0.0.70", 8080), timeout=12)
    if send: s.sendall(send)
    start = time.monotonic()
    while True:
        data = s.recv(4096)
        if not data: break
    return time.monotonic() - start
out = {}
sends = {"silent": b"", "stalled": b"POST /license HTTP/1.1\r\nHost: x\r\n", "used": b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n"}
threads = [threading.Thread(target=lambda k=k: out.__setitem__(k, wait_close(sends[k]))) for k in sends]
for t in threads: t.start()
for t in threads: t.join()
print(" ".join(f"{k}={4.5 <= out.get(k, 0) <= 8}" for k in sends))
PY
)
[ "$idle" = "silent=True stalled=True used=True" ] && pass "idle connections closed after 5 s ($idle)" || fail "idle timeout: $idle"
kill -0 "$LICENSE_PID" && pass "the server is still running after the bad input" || fail "the server died"
expect_no_match ls.err "secret|$key" "no password or key in the server's diagnostics"
kill "$LICENSE_PID"
wait_for 5 grep -q '"event":"stopped"' ls.out && pass "SIGTERM stops the server with a summary" || fail "no stopped event"
finish
