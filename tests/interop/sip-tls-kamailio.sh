#!/usr/bin/env bash
# ims-register over TLS to a real Kamailio registrar (its tls module, Debian
# kamailio-tls-modules): sips: and transport=tls, the server's certificate
# verified against our CA, a precise error (exit 3) when it does not verify
# or does not name the host, --insecure, and a Kamailio listener that demands
# a client certificate (--tls-cert/--tls-key).
# Hosts: 127.0.171.1 Kamailio (UDP 5060, TLS 5061 and, demanding client
# certificates, TLS 127.0.171.3:5061), .2 ims-register.
# Usage: sip-tls-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
. "$(dirname "$0")/../lib/tls.sh"
reg=$build/tools/ims-register

tls_ca ca
tls_ca other
tls_cert ca kamailio 127.0.171.1
tls_cert ca kamailio-client-auth 127.0.171.3
tls_cert ca alice 127.0.171.2
t=$TEST_TMP/tls
dir=$TEST_TMP/kamailio-main
mkdir -p "$dir"
cat >"$dir/tls.cfg" <<CFG
[server:127.0.171.1:5061]
method = TLSv1.2+
certificate = $t/kamailio.crt
private_key = $t/kamailio.key
verify_certificate = no
require_certificate = no

[server:127.0.171.3:5061]
method = TLSv1.2+
certificate = $t/kamailio-client-auth.crt
private_key = $t/kamailio-client-auth.key
ca_list = $t/ca.crt
verify_certificate = yes
require_certificate = yes

[server:default]
method = TLSv1.2+
certificate = $t/kamailio.crt
private_key = $t/kamailio.key

[client:default]
method = TLSv1.2+
verify_certificate = no
CFG
cat >"$dir/extra.cfg" <<CFG
enable_tls=yes
listen=tls:127.0.171.1:5061
listen=tls:127.0.171.3:5061
loadmodule "tls.so"
modparam("tls", "config", "$dir/tls.cfg")
CFG
kamailio_start main 127.0.171.1 5060
kamailio_add_user main alice ims.test alice-secret
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
CSV
alice=(--subscribers "$csv" --impi alice@ims.test --local 127.0.171.2 --timeout 3)

run "$reg" "${alice[@]}" --proxy sips:127.0.171.1:5061 --tls-ca "$t/ca.crt" --json
expect_exit 0 "register over TLS (sips:) with Kamailio, its certificate verified"
expect_match "$OUT_FILE" '"transport":"tls"' "the result names the transport"
contact=$(json_field "$OUT_FILE" registered contact)
kamailio_contacts main alice >"$TEST_TMP/bindings"
expect_match "$TEST_TMP/bindings" "transport=tls" "Kamailio holds a TLS contact ($contact)"

run "$reg" "${alice[@]}" --proxy "sip:127.0.171.1:5061;transport=tls" --tls-ca "$t/ca.crt"
expect_exit 0 "register with transport=tls"

run "$reg" "${alice[@]}" --proxy sips:127.0.171.1:5061 --tls-ca "$t/other.crt"
expect_exit 3 "a certificate from a CA we do not trust"
expect_stderr_line "TLS to sips:127.0.171.1:5061 failed: .*did not verify: unable to get local issuer certificate" \
  "the error names the peer and why"

run "$reg" "${alice[@]}" --proxy sips:127.0.171.1:5061 --insecure
expect_exit 0 "--insecure registers without verifying"

run "$reg" "${alice[@]}" --proxy sips:127.0.171.3:5061 --tls-ca "$t/ca.crt"
expect_exit 3 "a listener that demands a client certificate, none given"
expect_stderr_line "TLS to sips:127.0.171.3:5061 failed: the handshake failed: .*certificate required" \
  "the error says the server wanted a client certificate"
run "$reg" "${alice[@]}" --proxy sips:127.0.171.3:5061 --tls-ca "$t/ca.crt" --tls-cert "$t/alice.crt" --tls-key "$t/alice.key"
expect_exit 0 "with --tls-cert/--tls-key the client certificate is accepted"

finish
