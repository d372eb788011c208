# ims-call answerers for tests. Needs testlib.sh sourced first and $call set
# to the ims-call binary.

# answerer NAME ADDRESS:PORT OPTIONS...: ims-call --listen in the background,
# ready when it printed its "listening" event; output in $TEST_TMP/NAME.out.
answerer() {
  local name=$1 listen=$2
  shift 2
  "$call" --listen "$listen" --json "$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
  track $!
  printf -v "PID_$name" '%s' "$!"
  wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/$name.out" || fail "answerer $name did not start"
}

# ended NAME: waits (bounded, 10 s) for the answerer NAME to exit by itself.
ended() {
  local pid_var=PID_$1
  for _ in $(seq 100); do kill -0 "${!pid_var}" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

# call_check FILE PYTHON_EXPRESSION WHAT: the last "call" event of FILE, as
# `c` (its media as `m`), makes the expression true.
call_check() {
  if python3 - "$1" "$2" <<'PY'; then pass "$3"; else fail "$3"; fi
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1]) if '"event":"call"' in l]
if not calls:
    print("  no call event in", sys.argv[1]); sys.exit(1)
c = calls[-1]
m = c.get("media") or {}
ok = eval(sys.argv[2])
if not ok:
    print("  call:", json.dumps(c))
sys.exit(0 if ok else 1)
PY
}

# alice_bob_kamailio NAME ADDRESS: a Kamailio on ADDRESS:5060 with the
# config of interop/ims-call-kamailio.sh (registrar and record-routing proxy,
# Digest) that knows alice and bob of ims.test; $csv is a subscriber file
# with both (md5, passwords alice-secret and bob-secret). Needs kamailio.sh.
alice_bob_kamailio() {
  csv=$TEST_TMP/subscribers.csv
  cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice,sip:alice@ims.test,md5,alice-secret,,,,,
bob,sip:bob@ims.test,md5,bob-secret,,,,,
CSV
  KAMAILIO_CONFIGS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop" && pwd)
  kamailio_start "$1" "$2" 5060 MD5 ims-call-kamailio
  kamailio_add_user "$1" alice ims.test alice-secret
  kamailio_add_user "$1" bob ims.test bob-secret
}
