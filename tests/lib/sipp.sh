# sipp (Debian sip-tester) as a real UA in tests, with the scenarios of
# tests/sipp/. Needs testlib.sh sourced first.
SIPP_SCENARIOS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../sipp" && pwd)

# sipp_uas NAME SCENARIO ADDRESS PORT MEDIA_PORT CALLS: a UAS in the
# background, answering CALLS calls, then exiting; ready when bound.
sipp_uas() {
  local name=$1 scenario=$2 address=$3 port=$4 media=$5 calls=$6
  sipp -sf "$SIPP_SCENARIOS/$scenario.xml" -i "$address" -p "$port" -mp "$media" -m "$calls" \
    -nostdin -timeout 60 -trace_err -error_file "$TEST_TMP/sipp-$name.err" >/dev/null 2>&1 &
  track $!
  wait_for 5 sh -c "ss -Huln | grep -q '$address:$port '" || fail "sipp $name did not bind $address:$port"
}

# sipp_uac SCENARIO NODE FROM_USER DOMAIN TO_USER ADDRESS PORT MEDIA_PORT [TO_DOMAIN]:
# one call through NODE from ADDRESS:PORT to TO_USER@TO_DOMAIN (default: DOMAIN);
# RC is sipp's exit code (0: the call succeeded).
sipp_uac() {
  local scenario=$1 node=$2 from=$3 domain=$4 to=$5 address=$6 port=$7 media=$8 to_domain=${9:-$4}
  printf 'SEQUENTIAL\n%s;%s;%s\n' "$from" "$domain" "$to_domain" >"$TEST_TMP/sipp-inject.csv"
  set +e
  timeout 30 sipp "$node" -sf "$SIPP_SCENARIOS/$scenario.xml" -inf "$TEST_TMP/sipp-inject.csv" -s "$to" \
    -i "$address" -p "$port" -mp "$media" -m 1 -nostdin -timeout 10 -timeout_error \
    -trace_msg -message_file "$TEST_TMP/sipp-uac.log" >/dev/null 2>"$TEST_TMP/sipp-uac.stderr"
  RC=$?
  set -e
  LAST_CMD="sipp $scenario from $from to $to via $node"
}
