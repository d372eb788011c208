#!/usr/bin/env bash
# The main scenario of what exists so far: a real registrar (Kamailio, Digest
# against SQLite, domain ims.test) on 127.0.1.1 and alice's UE on 127.0.1.2.
# Prints one verdict line per step (PASS/FAIL and its time); exits 0 only if
# every step passes. Usage: register-with-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/scenario.sh"
. "$(dirname "$0")/../lib/kamailio.sh"
reg=$build/tools/ims-register

cat >"$TEST_TMP/subscribers.csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
CSV
ue=(--subscribers "$TEST_TMP/subscribers.csv" --impi alice@ims.test --proxy sip:127.0.1.1:5060 --local 127.0.1.2)

start_registrar() {
  kamailio_start registrar 127.0.1.1 5060 && kamailio_add_user registrar alice ims.test alice-secret
}
register() { "$reg" "${ue[@]}" --json >"$TEST_TMP/alice.json"; }
binding_in_registrar() {
  kamailio_contacts registrar alice | grep -qx "$(json_field "$TEST_TMP/alice.json" registered contact)"
}
has_ims_headers() {
  grep -q '"service_route":\["<sip:orig@127.0.1.1:5060;lr>"\]' "$TEST_TMP/alice.json" &&
    grep -q '"p_associated_uri":\["<sip:alice@ims.test>"\]' "$TEST_TMP/alice.json"
}
keep_and_refresh() {
  "$reg" "${ue[@]}" --expires 2 --keep --json >"$TEST_TMP/keep.json" 2>"$TEST_TMP/keep.err" &
  local pid=$!
  track $pid
  wait_for 10 grep -q '"event":"refreshed"' "$TEST_TMP/keep.json" || return 1
  kill -TERM $pid
  wait $pid && grep -q '"event":"unregistered"' "$TEST_TMP/keep.json"
}
wrong_password_rejected() {
  local rc=0
  "$reg" --impu sip:alice@ims.test --password wrong --proxy sip:127.0.1.1:5060 --local 127.0.1.2 || rc=$?
  [ $rc -eq 4 ]
}
unregister() { "$reg" "${ue[@]}" --unregister && ! binding_in_registrar; }

echo "imsp2p scenario: IMS registration against a real registrar"
step "start Kamailio registrar on 127.0.1.1 (auth_db, SQLite)" start_registrar
step "alice registers (IMS REGISTER, Digest challenge, 200 OK)" register
step "Kamailio holds alice's binding (kamcmd ul.lookup)" binding_in_registrar
step "200 OK carried Service-Route and P-Associated-URI" has_ims_headers
step "alice stays registered (--keep): refresh, then deregister" keep_and_refresh
step "a wrong password is rejected (exit 4)" wrong_password_rejected
step "alice deregisters; the binding is gone" unregister

scenario_verdict
