#!/usr/bin/env bash
# ims-call and 3xx redirections: a redirect server (ims-call --listen
# --redirect) sends the caller to an answerer, which answers; the redirection
# is followed at most --max-redirects times (0: the 3xx fails the call,
# exit 1, naming the Contact); a redirection loop is not followed.
# Hosts: 127.0.140.21 caller, .22 redirect servers and answerer.
# Usage: ims-call-redirect.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
call=$build/tools/ims-call
. "$(dirname "$0")/../lib/ims_call.sh"
alice=(--impu sip:alice@ims.test --local 127.0.140.21 --media none --duration 0.2)

answerer bob 127.0.140.22:5072 --answer --media none
answerer moved 127.0.140.22:5070 --redirect sip:bob@127.0.140.22:5072
answerer loop 127.0.140.22:5074 --redirect sip:bob@127.0.140.22:5074
expect_match "$TEST_TMP/moved.out" '"mode":"redirect"' "the redirect server says so"

run "$call" "${alice[@]}" --json sip:bob@127.0.140.22:5070
expect_exit 0 "a 302 is followed to its Contact, which answers"
expect_match "$OUT_FILE" '"redirected_to":\["sip:bob@127.0.140.22:5072"\].*"status":200' "the result lists the Contact followed"
wait_for 3 grep -q '"event":"call".*"ended_by":"redirect".*"status":302' "$TEST_TMP/moved.out" &&
  pass "the redirect server reports its 302" || fail "no 302 reported by the redirect server"

run "$call" "${alice[@]}" --max-redirects 0 --json sip:bob@127.0.140.22:5070
expect_exit 1 "--max-redirects 0: a 302 fails the call"
expect_stderr_line "redirected \\(302 Moved Temporarily\\) to sip:bob@127.0.140.22:5072: not followed: --max-redirects 0" \
  "the failure names the Contact"
expect_match "$OUT_FILE" '"redirected_to":\[\].*"status":302' "the call's status is the 302"

run "$call" "${alice[@]}" --json sip:bob@127.0.140.22:5074
expect_exit 1 "a redirection to the URI itself"
expect_stderr_line "a redirection loop" "the loop is named"

run "$call" "${alice[@]}" --max-redirects 11 sip:bob@127.0.140.22:5070
expect_exit 2 "--max-redirects above 10"
run "$call" --listen 127.0.140.22:5080 --redirect sip:x@127.0.140.22 --answer
expect_exit 2 "--redirect with --answer"
run "$call" --listen 127.0.140.22:5080 --redirect not-a-uri
expect_exit 2 "--redirect with a malformed URI"
finish
