# Licence server helpers for shell tests (source after testlib.sh).
# license_start NAME ADDRESS:PORT CSV [OPTIONS...]: starts license-server with
# its state in $TEST_TMP/NAME, waits for its "listening" event; stdout in
# $TEST_TMP/NAME.out, stderr in $TEST_TMP/NAME.err, PID in LICENSE_PID.
license_start() {
  local name=$1 listen=$2 csv=$3
  shift 3
  "$build/tools/license-server" --listen "$listen" --state-dir "$TEST_TMP/$name" --subscribers "$csv" \
    --domain ims.test --json "$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
  LICENSE_PID=$!
  track "$LICENSE_PID"
  if ! wait_for 10 grep -q '"event":"listening"' "$TEST_TMP/$name.out"; then
    fail "license-server $name did not start"
    sed 's/^/  stderr: /' "$TEST_TMP/$name.err" | head -20
    return 1
  fi
}

# license_admin NAME ARGS...: license-server admin on NAME's state directory.
license_admin() {
  local name=$1
  shift
  "$build/tools/license-server" admin "$@" --state-dir "$TEST_TMP/$name" -q >/dev/null
}

# license_cdr_count NAME: the CDRs in NAME's database (the server stopped or running).
license_cdr_count() {
  "$build/tools/license-server" cdr --state-dir "$TEST_TMP/$1" --json | grep -c '"event":"cdr"' || true
}

# license_balance NAME IMPI: IMPI's balance in NAME's database.
license_balance() {
  "$build/tools/license-server" admin show --state-dir "$TEST_TMP/$1" --json |
    python3 -c 'import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e.get("impi") == sys.argv[1]: print(e["balance"])' "$2"
}

# http_status OUT_FILE CURL_ARGS...: the HTTP status curl got (000: none), body in OUT_FILE.
http_status() {
  local out=$1
  shift
  curl -s -o "$out" -w '%{http_code}' --max-time 10 "$@" || true
}

# license_subscribers FILE: the test subscribers: alice (MD5, alice-secret),
# bob (AKA, the TS 35.208 set 1 key), carol and dave (MD5, NAME-secret).
license_subscribers() {
  cat >"$1" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,
bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000040
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
dave@ims.test,sip:dave@ims.test,md5,dave-secret,,,,,
CSV
}
