#!/usr/bin/env bash
# ims-register against a real Kamailio registrar (auth_db on SQLite, domain
# ims.test) and a Kamailio P-CSCF, with sipsak as a second UE.
# Hosts: 127.0.11.1 registrar, .2 ims-register, .3 sipsak's contact,
# .4 P-CSCF, .5 registrar with SHA-256, .99 nobody.
# Usage: ims-register-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
reg=$build/tools/ims-register

kamailio_start main 127.0.11.1 5060
kamailio_add_user main alice ims.test alice-secret
kamailio_add_user main bob ims.test bob-secret
cat >"$TEST_TMP/subscribers.csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-secret,,,,,
mallory@ims.test,sip:mallory@ims.test,md5,whatever,,,,,
CSV
common=(--proxy sip:127.0.11.1:5060 --local 127.0.11.2 --timeout 3)

# Right password: exit 0 and Kamailio holds the binding.
run "$reg" --subscribers "$TEST_TMP/subscribers.csv" --impi alice@ims.test "${common[@]}" --json
expect_exit 0 "register alice with the right password"
contact=$(json_field "$OUT_FILE" registered contact)
kamailio_contacts main alice >"$TEST_TMP/bindings"
expect_match "$TEST_TMP/bindings" "^${contact}\$" "Kamailio (kamcmd ul.lookup) holds alice's binding $contact"
cp "$OUT_FILE" "$TEST_TMP/alice.json"
expect_match "$TEST_TMP/alice.json" '"service_route":\["<sip:orig@127.0.11.1:5060;lr>"\]' "Service-Route parsed"
expect_match "$TEST_TMP/alice.json" '"p_associated_uri":\["<sip:alice@ims.test>"\]' "P-Associated-URI parsed"
expect_match "$TEST_TMP/alice.json" '"pub_gruu":"sip:alice@ims.test;gr=urn:uuid:' "public GRUU parsed"
expect_match "$TEST_TMP/alice.json" '"algorithm":"MD5"' "answered an MD5 challenge"
expect_match "$TEST_TMP/alice.json" '"expires":600' "expires from the 200 OK"
expect_no_match "$TEST_TMP/alice.json" 'alice-secret' "the password is not in the output"

# Wrong password: exit 4.
run "$reg" --impu sip:alice@ims.test --password wrong "${common[@]}"
expect_exit 4 "wrong password"
expect_stderr_line 'rejected the credentials of alice@ims.test \(401' "wrong password message"

# Unknown user: Kamailio cannot tell it from a wrong password and re-challenges: exit 4.
run "$reg" --subscribers "$TEST_TMP/subscribers.csv" --impi mallory@ims.test "${common[@]}"
expect_exit 4 "unknown user"

# A binding made by sipsak and one made by ims-register coexist.
run sipsak -p 127.0.11.1:5060 -U -C sip:alice@127.0.11.3:5070 -s sip:alice@ims.test -u alice -a alice-secret -x 600 -i
expect_exit 0 "sipsak registers alice's second contact"
kamailio_contacts main alice >"$TEST_TMP/bindings"
expect_match "$TEST_TMP/bindings" "^${contact}\$" "ims-register's binding is still there"
expect_match "$TEST_TMP/bindings" '^sip:alice@127.0.11.3:5070$' "sipsak's binding is there too"

# --unregister removes this UE's binding only (found by its instance id, from a new port).
run "$reg" --subscribers "$TEST_TMP/subscribers.csv" --impi alice@ims.test "${common[@]}" --unregister
expect_exit 0 "unregister alice"
kamailio_contacts main alice >"$TEST_TMP/bindings"
expect_no_match "$TEST_TMP/bindings" "^${contact}\$" "ims-register's binding is gone"
expect_match "$TEST_TMP/bindings" '^sip:alice@127.0.11.3:5070$' "sipsak's binding stays"

# --unregister-all removes every binding of the AOR.
run "$reg" --impu sip:alice@ims.test --password alice-secret "${common[@]}" --unregister-all
expect_exit 0 "unregister all of alice's bindings"
if [ -z "$(kamailio_contacts main alice)" ]; then pass "no binding left for alice"; else fail "bindings left for alice"; fi

# TCP.
run "$reg" --impu sip:bob@ims.test --password bob-secret --proxy "sip:127.0.11.1:5060;transport=tcp" --local 127.0.11.2 --json
expect_exit 0 "register bob over TCP"
expect_match "$OUT_FILE" '"transport":"tcp"' "transport reported as tcp"
expect_match "$OUT_FILE" '"contact":"sip:bob@127.0.11.2:[0-9]+;transport=tcp"' "TCP contact"

# A registrar that swallows requests and never answers: exit 3 within --timeout.
blackhole 127.0.11.98 5060
start=$(date +%s%N)
run "$reg" --impu sip:alice@ims.test --password x --proxy sip:127.0.11.98:5060 --local 127.0.11.2 --timeout 2
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_exit 3 "registrar that does not answer"
expect_stderr_line 'no answer from sip:127.0.11.98:5060 within 2 s' "no-answer message"
if [ "$elapsed_ms" -ge 1900 ] && [ "$elapsed_ms" -le 3500 ]; then
  pass "gave up after ${elapsed_ms} ms (--timeout 2)"
else
  fail "gave up after ${elapsed_ms} ms with --timeout 2"
fi

# Nobody listening at all (ICMP port unreachable): exit 3 at once.
run "$reg" --impu sip:alice@ims.test --password x --proxy sip:127.0.11.99:5060 --local 127.0.11.2 --timeout 2
expect_exit 3 "registrar address with nobody listening"
expect_stderr_line 'cannot reach sip:127.0.11.99:5060' "unreachable message"

# SHA-256 Digest (RFC 7616) against a Kamailio configured for it.
kamailio_start sha 127.0.11.5 5060 SHA-256
kamailio_add_user sha alice ims.test alice-secret
run "$reg" --impu sip:alice@ims.test --password alice-secret --proxy sip:127.0.11.5:5060 --local 127.0.11.2 --json
expect_exit 0 "register with SHA-256 Digest"
expect_match "$OUT_FILE" '"algorithm":"SHA-256"' "answered a SHA-256 challenge"
run "$reg" --impu sip:alice@ims.test --password wrong --proxy sip:127.0.11.5:5060 --local 127.0.11.2
expect_exit 4 "wrong password with SHA-256"

# Through an outbound proxy (a Kamailio P-CSCF) that adds Path.
KAMAILIO_REGISTRAR=127.0.11.1:5060 kamailio_start pcscf 127.0.11.4 5060 MD5 pcscf
run "$reg" --impu sip:bob@ims.test --password bob-secret --proxy sip:127.0.11.4:5060 --local 127.0.11.2 --json
expect_exit 0 "register bob through the P-CSCF"
expect_match "$OUT_FILE" '"path":\["<sip:127.0.11.4;lr>"\]' "Path of the P-CSCF in the result"

# --keep refreshes before expiry and deregisters on SIGTERM.
"$reg" --impu sip:bob@ims.test --password bob-secret "${common[@]}" --expires 2 --keep --json \
  >"$TEST_TMP/keep.out" 2>"$TEST_TMP/keep.err" &
keep_pid=$!
track $keep_pid
if wait_for 10 grep -q '"event":"refreshed"' "$TEST_TMP/keep.out"; then pass "--keep refreshed the registration"; else fail "--keep did not refresh"; fi
keep_contact=$(json_field "$TEST_TMP/keep.out" registered contact)
kamailio_contacts main bob >"$TEST_TMP/bindings"
expect_match "$TEST_TMP/bindings" "^${keep_contact}\$" "the kept binding is in Kamailio"
kill -TERM $keep_pid
set +e; wait $keep_pid; keep_rc=$?; set -e
if [ $keep_rc -eq 0 ]; then pass "--keep exits 0 on SIGTERM"; else fail "--keep exit $keep_rc on SIGTERM"; cat "$TEST_TMP/keep.err"; fi
expect_match "$TEST_TMP/keep.out" '"event":"unregistered"' "--keep deregistered on SIGTERM"
kamailio_contacts main bob >"$TEST_TMP/bindings"
expect_no_match "$TEST_TMP/bindings" "^${keep_contact}\$" "the kept binding is gone after SIGTERM"

# Load mode: every subscriber of the CSV, no failures.
run "$reg" --subscribers "$TEST_TMP/subscribers.csv" "${common[@]}" --count 2 --json
expect_exit 0 "load mode with two md5 subscribers"
expect_match "$OUT_FILE" '"event":"load_summary".*"failures":0' "load summary with no failures"

finish
