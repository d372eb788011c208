#!/usr/bin/env bash
# Charging survives SIGKILL: no CDR lost, none doubled.
# 1. The worst moment, arranged: a test hook (IMSP2P_LICENSE_CRASH_AFTER_COMMIT=1)
#    makes the server SIGKILL itself right after a CDR batch is durable and
#    before the key is sent. The client retries the same request id on the
#    restarted server: it gets its licence without a second charge.
# 2. Kill -9 under load: 60 concurrent license-fetch runs; whatever moment the
#    kill lands, every licence a client received has its CDR, the balance
#    matches the CDRs, and retrying the failed ones charges each id once.
# Hosts: 127.0.0.71 the licence server (8080).
# Usage: license-crash.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
fetch=$build/tools/license-fetch
server=http://127.0.0.71:8080
cd "$TEST_TMP"
cat >subs.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
kid=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf
key=$(python3 -c 'import base64; print(base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("="))')

# cdr_count: CDRs in the database (read with the server stopped or running).
cdr_count() { license_cdr_count ls; }
balance() { license_balance ls alice@ims.test; }

# --- 1. SIGKILL between the durable CDR and the answer ---
IMSP2P_LICENSE_CRASH_AFTER_COMMIT=1 license_start ls 127.0.0.71:8080 subs.csv
license_admin ls publisher carol@ims.test
license_admin ls credit alice@ims.test 1000
status=$(http_status put.body --digest -u carol@ims.test:carol-secret -X PUT \
  --data "{\"k\":\"$key\",\"policy\":\"pay-per-download\",\"price\":10}" "$server/keys/$kid")
[ "$status" = 201 ] && pass "a pay-per-download key deposited" || fail "deposit: $status $(cat put.body)"
run "$fetch" --kid $kid --server $server --impi alice@ims.test --subscribers subs.csv --output lic.json \
  --request-id crash-1 --timeout 2
expect_exit 3 "fetch: the server died before answering"
set +e
wait "$LICENSE_PID"
rc=$?
set -e
[ "$rc" = 137 ] && pass "the server was killed by SIGKILL after the commit" || fail "server exit $rc, expected 137"
[ ! -e lic.json ] && pass "no licence reached the client" || fail "a licence was written"
[ "$(cdr_count)" = 1 ] && pass "the CDR of the unanswered grant is on disk" || fail "$(cdr_count) CDRs after the crash, expected 1"
[ "$(balance)" = 990 ] && pass "the balance was charged once (990)" || fail "balance $(balance) after the crash"
license_start ls 127.0.0.71:8080 subs.csv
run "$fetch" --kid $kid --server $server --impi alice@ims.test --subscribers subs.csv --output lic.json --request-id crash-1
expect_exit 0 "fetch: the retry with the same request id gets the licence"
expect_match lic.json "\"k\":\"$key\"" "the retried licence holds the key"
[ "$(cdr_count)" = 1 ] && pass "the retry added no CDR" || fail "$(cdr_count) CDRs after the retry, expected 1"
[ "$(balance)" = 990 ] && pass "the retry was not charged" || fail "balance $(balance) after the retry"

# --- 2. kill -9 under load ---
n=60
pids=()
for i in $(seq $n); do
  "$fetch" --kid $kid --server $server --impi alice@ims.test --subscribers subs.csv --output "load-$i.json" \
    --request-id "load-$i" --timeout 1 -q >/dev/null 2>&1 &
  pids+=($!)
done
# Kill once the first licence is out: the others are then in every stage
# (queued, being charged, committed but unanswered).
for _ in $(seq 2000); do compgen -G "load-*.json" >/dev/null && break; sleep 0.01; done
kill -9 "$LICENSE_PID"
ok_ids=()
for i in $(seq $n); do
  if wait "${pids[$((i - 1))]}"; then ok_ids+=("load-$i"); fi
done
echo "  $((${#ok_ids[@]})) of $n clients got their licence before the kill"
license_start ls 127.0.0.71:8080 subs.csv
"$build/tools/license-server" cdr --state-dir ls --json >cdrs.json
lost=0
for id in "${ok_ids[@]}"; do grep -q "\"request_id\":\"$id\"" cdrs.json || lost=$((lost + 1)); done
[ "$lost" = 0 ] && pass "every licence received has its CDR (${#ok_ids[@]} checked)" || fail "$lost licences without a CDR"
cdrs=$(grep -c '"event":"cdr"' cdrs.json)
[ "$(balance)" = $((1000 - 10 * cdrs)) ] && pass "the balance matches the $cdrs CDRs" || fail "balance $(balance) for $cdrs CDRs"
for i in $(seq $n); do
  [ -e "load-$i.json" ] && continue
  "$fetch" --kid $kid --server $server --impi alice@ims.test --subscribers subs.csv --output "load-$i.json" \
    --request-id "load-$i" -q >/dev/null || fail "retry of load-$i failed"
done
"$build/tools/license-server" cdr --state-dir ls --json >cdrs.json
[ "$(grep -c '"request_id":"load-' cdrs.json)" = $n ] && pass "after the retries: exactly one CDR per request id ($n)" ||
  fail "$(grep -c '"request_id":"load-' cdrs.json) load CDRs, expected $n"
[ "$(balance)" = $((1000 - 10 * (n + 1))) ] && pass "charged exactly once per request id" || fail "final balance $(balance)"
finish
