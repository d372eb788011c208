#!/usr/bin/env bash
# overlay-probe license with credentials against our license-server: the
# test-licence round trip (issue 8, item 4). Without --kid the probe asks for
# the reserved KID and an authenticated 404 is healthy; with --kid of a free
# content it must get the key back (checked, never printed); a wrong password,
# a paid content without balance, an unknown KID and bad options each give
# their outcome; credentials from flags, the subscriber CSV (MD5 and AKA) and
# a testbed file.
# Hosts: 127.0.0.77 the licence server (8080), 127.0.0.78 nobody.
# Usage: overlay-probe-license-server.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
probe=$build/tools/overlay-probe
server=http://127.0.0.77:8080
cd "$TEST_TMP"
export XDG_STATE_HOME=$TEST_TMP/state
license_subscribers subs.csv

# dave gets a few wrong passwords below: keep him from being throttled.
license_start ls 127.0.0.77:8080 subs.csv --max-failures 20
license_admin ls publisher carol@ims.test
kid_free=00112233445566778899aabbccddeeff
kid_ppd=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
key=X15dXFtaWVhXVlVUU1JRUA # base64url of 5f5e5d5c5b5a59585756555453525150
b64() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' "$1"; }
[ "$(b64 5f5e5d5c5b5a59585756555453525150)" = $key ] || fail "test key encoding"
put() { # put KID POLICY PRICE
  http_status put.body --digest -u carol@ims.test:carol-secret -X PUT -H 'Content-Type: application/json' \
    --data "{\"k\":\"$key\",\"policy\":\"$2\",\"price\":$3,\"content_id\":\"c-$1\"}" "$server/keys/$1"
}
[ "$(put $kid_free free 0)" = 201 ] && pass "a free key deposited" || fail "deposit free: $(cat put.body)"
[ "$(put $kid_ppd pay-per-download 30)" = 201 ] && pass "a paid key deposited" || fail "deposit ppd: $(cat put.body)"
cdrs() { "$build/tools/license-server" cdr --state-dir ls --json | grep -c '"event":"cdr"' || true; }

# No credentials: reachability only, as before.
run "$probe" license $server/
expect_exit 0 "reachability without credentials"
expect_no_match "$OUT_FILE" 'test licence' "no test licence without credentials"

# The reserved KID: an authenticated 404 proves the AAA path.
run "$probe" license $server/ --impi alice@ims.test --subscribers subs.csv
expect_exit 0 "reserved KID, MD5 subscriber from the CSV"
expect_match "$OUT_FILE" 'test licence as alice@ims.test for KID 0{32} \(reserved\): HTTP 404 in [0-9.]+ ms, Digest SHA-256 challenge answered, authenticated' \
  "text: challenge answered, authenticated 404"
sed 's/^/  | /' "$OUT_FILE"
run "$probe" --json license $server/ --impi alice@ims.test --password alice-secret
expect_exit 0 "reserved KID, password flag, --json"
tl=$(json_field "$OUT_FILE" probe test_license)
echo "$tl" | python3 -c '
import json, sys
t = json.load(sys.stdin)
assert t["http_status"] == 404 and t["challenge_answered"] and t["reserved_kid"] and not t["key_present"], t
assert t["algorithm"] == "SHA-256" and t["latency_ms"] > 0 and t["impi"] == "alice@ims.test", t
' && pass "JSON test_license: 404, challenge answered, reserved" || fail "test_license $tl"
expect_match "$OUT_FILE" '"license_ms"|HTTP 404 in' "summary with the round trip"
expect_no_match "$OUT_FILE" 'alice-secret' "no password in the output"
run "$probe" license $server/ --impi bob@ims.test --subscribers subs.csv
expect_exit 0 "reserved KID, AKA subscriber"
expect_match "$OUT_FILE" 'Digest AKAv1-MD5 challenge answered' "AKAv1-MD5 answered"

# A free content's KID: a full grant, the key checked and never printed.
before=$(cdrs)
run "$probe" --json license $server/ --impi alice@ims.test --subscribers subs.csv --kid $kid_free
expect_exit 0 "--kid of a free content"
tl=$(json_field "$OUT_FILE" probe test_license)
echo "$tl" | grep -q '"key_present": true' && echo "$tl" | grep -q '"http_status": 200' &&
  pass "JSON: granted, key present" || fail "test_license $tl"
expect_no_match "$OUT_FILE" "$key|5f5e5d5c5b5a5958" "the key is never printed"
[ "$(cdrs)" = $((before + 1)) ] && pass "the grant wrote its CDR (price 0)" || fail "CDRs: $before before, $(cdrs) after"
run "$probe" license $server/ --impi alice@ims.test --subscribers subs.csv --kid $kid_free
expect_match "$OUT_FILE" 'granted, key present' "text: granted, key present"
expect_no_match "$OUT_FILE" "$key" "text: no key"

# Failures, each with its outcome and a clear reason.
run "$probe" license $server/ --impi dave@ims.test --password wrong
expect_exit 4 "a wrong password: authentication failure"
expect_stderr_line "test licence: $server rejected the credentials of dave@ims.test" "wrong password said"
run "$probe" --nagios license $server/ --impi dave@ims.test --password wrong
expect_exit 2 "--nagios: a wrong password is CRITICAL"
expect_match "$OUT_FILE" "^LICENSE CRITICAL: test licence: $server rejected the credentials of dave@ims.test; HTTP 404 .* \| 'nodes'=1 'rtt_ms'=[0-9.]+ms 'license_ms'=[0-9.]+ms$" \
  "--nagios line names the reason, with license_ms perfdata"
run "$probe" license $server/ --impi alice@ims.test --subscribers subs.csv --kid $kid_ppd
expect_exit 1 "a paid content without balance: negative"
expect_stderr_line "test licence: payment required: " "402 said"
run "$probe" license $server/ --impi alice@ims.test --subscribers subs.csv --kid 11111111111111111111111111111111
expect_exit 1 "--kid the server does not know"
expect_stderr_line "test licence: unknown KID: no key for KID 1{32}" "unknown KID said"
run "$probe" --nagios --warning license_ms=0.001 license $server/ --impi alice@ims.test --subscribers subs.csv
expect_exit 1 "--nagios WARNING over a license_ms threshold"
run "$probe" --timeout 1 license http://127.0.0.78:8080/ --impi alice@ims.test --password alice-secret
expect_exit 3 "a licence server that is down: no answer"
expect_no_match "$OUT_FILE" 'test licence as' "no round trip without a server"

# Bad options: usage errors before any I/O (UNKNOWN with --nagios).
run "$probe" license $server/ --kid 00112233
expect_exit 2 "--kid without credentials"
expect_stderr_line "license: --kid and credentials need --impi ID" "missing --impi said"
run "$probe" license $server/ --impi alice@ims.test --password x --kid 0011
expect_exit 2 "a malformed --kid"
expect_stderr_line "license: invalid --kid '0011': give 32 hex digits" "malformed --kid said"
run "$probe" license $server/ --impi alice@ims.test
expect_exit 2 "--impi without a password, key or CSV"
expect_stderr_line "missing credentials: give --password, --k with --op or --opc, or --subscribers FILE" "missing credentials said"
run "$probe" license $server/ --impi nobody@ims.test --subscribers subs.csv
expect_exit 2 "an IMPI not in the CSV"
run "$probe" --nagios license $server/ --impi alice@ims.test
expect_exit 3 "--nagios: bad credentials options are UNKNOWN"

# all --testbed: the round trip from a testbed file, beside a bad password.
cat >testbed.toml <<TOML
[license.drm]
url = "$server/"
impi = "alice@ims.test"
subscribers = "$TEST_TMP/subs.csv"
kid = "$kid_free"

[license.aaa]
url = "$server/"
impi = "carol@ims.test"
password = "carol-secret"

[license.badpass]
url = "$server/"
impi = "dave@ims.test"
password = "wrong"
TOML
run "$probe" all --testbed testbed.toml
expect_exit 4 "all: the wrong password decides"
expect_match "$OUT_FILE" '^drm +license +http://127.0.0.77:8080/ +OK +HTTP 404 in [0-9.]+ ms, test licence granted in' "drm: granted"
expect_match "$OUT_FILE" '^aaa +license +http://127.0.0.77:8080/ +OK +HTTP 404 in [0-9.]+ ms, test licence authenticated in' "aaa: authenticated"
expect_match "$OUT_FILE" '^badpass +license +http://127.0.0.77:8080/ +CRITICAL +test licence: .* rejected the credentials of dave@ims.test' \
  "badpass: CRITICAL with the reason"
sed 's/^/  | /' "$OUT_FILE"
expect_no_match "$OUT_FILE" "carol-secret|$key" "no secret in the table"
run "$probe" --json all --testbed testbed.toml
expect_no_match "$OUT_FILE" "carol-secret|wrong\"|$key" "no secret in the JSON"
finish
