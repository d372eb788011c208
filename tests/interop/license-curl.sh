#!/usr/bin/env bash
# license-server with curl, the reference HTTP Digest client: curl --digest
# obtains a licence for an MD5 subscriber with the exact request body a
# browser's Clear Key CDM generates (as is, text/plain); over TLS too, with a
# certificate made here by openssl, and license-fetch checks that certificate.
# Hosts: 127.0.0.72 the licence server (8080 plain, 8443 TLS).
# Usage: license-curl.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
cd "$TEST_TMP"
cat >subs.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
kid=60061e017e477e877e57d00d1ed00d1f # the KID of the W3C EME Clear Key example
key=$(python3 -c 'import base64; print(base64.urlsafe_b64encode(bytes(range(16,32))).decode().rstrip("="))')
# What Chrome's Clear Key CDM hands to the page for the licence request: sent as is.
printf '{"kids":["YAYeAX5Hfod-V9ANHtANHw"],"type":"temporary"}' >browser-request.json

openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.72 \
  -addext subjectAltName=IP:127.0.0.72 2>/dev/null && pass "a self-signed certificate for 127.0.0.72" ||
  fail "openssl could not make a certificate"

license_start ls 127.0.0.72:8080 subs.csv --digest-algorithm md5
license_admin ls publisher carol@ims.test
status=$(http_status put.body --digest -u carol@ims.test:carol-secret -X PUT -H 'Content-Type: application/json' \
  --data "{\"k\":\"$key\",\"policy\":\"free\"}" "http://127.0.0.72:8080/keys/$kid")
[ "$status" = 201 ] && pass "curl --digest deposits a key (201)" || fail "deposit: $status $(cat put.body)"
status=$(http_status lic.json --digest -u alice@ims.test:alice-secret -H 'Content-Type: text/plain;charset=UTF-8' \
  --data-binary @browser-request.json http://127.0.0.72:8080/license)
[ "$status" = 200 ] && pass "curl --digest gets a licence for the browser's request (200)" || fail "licence: $status $(cat lic.json)"
expect_match lic.json "^\\{\"keys\":\\[\\{\"kty\":\"oct\",\"kid\":\"YAYeAX5Hfod-V9ANHtANHw\",\"k\":\"$key\"\\}\\]\\}$" \
  "the answer is the Clear Key JWK set a browser's CDM takes"
kill "$LICENSE_PID"
wait "$LICENSE_PID" || true

# The same over TLS.
license_start ls 127.0.0.72:8443 subs.csv --cert tls.crt --key tls.key
status=$(http_status lic-tls.json --cacert tls.crt --digest -u alice@ims.test:alice-secret \
  --data-binary @browser-request.json https://127.0.0.72:8443/license)
[ "$status" = 200 ] && pass "curl --digest over TLS (200)" || fail "TLS licence: $status $(cat lic-tls.json)"
run "$build/tools/license-fetch" --kid $kid --server https://127.0.0.72:8443 --cacert tls.crt --impi alice@ims.test \
  --subscribers subs.csv --output lic-fetch.json
expect_exit 0 "license-fetch over TLS with --cacert"
run "$build/tools/license-fetch" --kid $kid --server https://127.0.0.72:8443 --impi alice@ims.test \
  --subscribers subs.csv --output lic-fetch2.json
expect_exit 4 "license-fetch refuses an unverifiable certificate"
expect_stderr_line "TLS certificate cannot be verified" "license-fetch: certificate message"
finish
