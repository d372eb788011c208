#!/usr/bin/env bash
# ims-call against ims-call, without a core: calls straight to the answerer's
# address. Answer with RTP both ways (tone and echo), reject, ring until
# CANCEL, MESSAGE, signalling only, and the bad inputs an answerer must
# refuse: a malformed SDP offer, an offer without a common codec (488), a
# BYE for an unknown dialog (481); and a caller's usage errors (exit 2).
# Hosts: 127.0.21.1 caller, .2 answerer, .3 a second answerer, .9 nobody.
# Usage: ims-call-answer.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
call=$build/tools/ims-call
send=$(dirname "$0")/../lib/sip_send.py
. "$(dirname "$0")/../lib/ims_call.sh"
alice=(--impu sip:alice@ims.test --local 127.0.21.1)

# A call answered after 0.3 s, 2 s of tone both ways.
answerer bob 127.0.21.2:5070 --answer --answer-delay 0.3 --max-calls 1
run "$call" "${alice[@]}" --duration 2 --json sip:bob@127.0.21.2:5070
expect_exit 0 "alice calls bob, bob answers"
expect_match "$OUT_FILE" '"event":"call".*"status":200' "the call result has status 200"
[ "$(json_field "$OUT_FILE" call ended_by)" = local ] && pass "alice hung up" || fail "ended_by is not local"
setup=$(json_field "$OUT_FILE" call setup_ms)
ringing=$(json_field "$OUT_FILE" call provisional_ms)
python3 -c "import sys; s, r = float('$setup'), float('$ringing'); sys.exit(0 if 250 <= s < 2000 and r < s else 1)" &&
  pass "timings: 18x after $ringing ms, 200 after $setup ms (answer delay 300 ms)" || fail "timings: 18x $ringing, 200 $setup"
received=$(python3 -c "import json; print([json.loads(l) for l in open('$OUT_FILE')][-1]['media']['packets_received'])")
[ "$received" -ge 80 ] && pass "alice received $received RTP packets from bob" || fail "alice received $received RTP packets"
ended bob && pass "bob's answerer exits after --max-calls 1" || fail "bob's answerer still runs"
expect_match "$TEST_TMP/bob.out" '"event":"call".*"direction":"incoming".*"ended_by":"remote".*"status":200' "bob reports the incoming call"
python3 - "$TEST_TMP/bob.out" <<'PY' && pass "bob's RTP: received, no loss, small jitter" || fail "bob's RTP statistics"
import json, sys
call = [json.loads(l) for l in open(sys.argv[1]) if '"event":"call"' in l][-1]
m = call["media"]
print("  bob media:", m)
sys.exit(0 if m["packets_received"] >= 80 and m["packets_lost"] == 0 and m["jitter_ms"] < 20 and m["codec"] == "PCMU" else 1)
PY

# PCMA only, and an echoing answerer: what alice sends comes back.
answerer echo 127.0.21.2:5072 --answer --echo --max-calls 1
run "$call" "${alice[@]}" --codec pcma --duration 1 --json sip:bob@127.0.21.2:5072
expect_exit 0 "a PCMA call to an echoing answerer"
python3 - "$OUT_FILE" <<'PY' && pass "the echo came back (PCMA)" || fail "no echo"
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]["media"]
print("  alice media:", m)
sys.exit(0 if m["codec"] == "PCMA" and m["packets_received"] >= 30 and m["packets_sent"] >= 40 else 1)
PY
ended echo || fail "the echo answerer did not exit"
expect_match "$TEST_TMP/echo.out" '"mode":"echo"' "the answerer reports echo mode"

# Reliable provisional responses (RFC 3262): a reliable 180, PRACK both ways.
answerer prack 127.0.21.2:5084 --answer --answer-delay 0.2 --100rel --max-calls 1
run "$call" "${alice[@]}" --100rel --duration 0.5 --json sip:bob@127.0.21.2:5084
expect_exit 0 "a call with Require: 100rel"
expect_match "$OUT_FILE" '"prack_count":1' "alice sent one PRACK, answered 200"
ended prack || fail "the 100rel answerer did not exit"
expect_match "$TEST_TMP/prack.out" '"event":"call".*"prack_count":1' "bob received the PRACK"

# Signalling only.
answerer quiet 127.0.21.2:5074 --answer --media none --max-calls 1
run "$call" "${alice[@]}" --media none --duration 0.2 --json sip:bob@127.0.21.2:5074
expect_exit 0 "a call without media"
expect_match "$OUT_FILE" '"media":null' "no media statistics with --media none"

# Rejected: 486 → exit 1; the answerer counts it as a call.
answerer busy 127.0.21.2:5076 --reject 486 --max-calls 1
run "$call" "${alice[@]}" sip:bob@127.0.21.2:5076
expect_exit 1 "a call rejected with 486"
expect_stderr_line "486 Busy Here" "the failure names the status"
expect_match "$OUT_FILE" '^outgoing call' "text output without --json"
ended busy && pass "the rejecting answerer exits after one call" || fail "the rejecting answerer still runs"

# Ringing only: CANCEL after --ring-timeout → exit 3; the answerer saw 487.
answerer ring 127.0.21.2:5078 --max-calls 1
run "$call" "${alice[@]}" --ring-timeout 1 --json sip:bob@127.0.21.2:5078
expect_exit 3 "no answer within --ring-timeout: CANCEL"
expect_match "$OUT_FILE" '"ended_by":"cancel".*"status":487' "the INVITE ended with 487"
ended ring || fail "the ringing answerer did not exit"
expect_match "$TEST_TMP/ring.out" '"event":"call".*"status":487' "the answerer reports the cancelled call"

# Load mode: 300 calls at 200/s, held 0.2 s, signalling only; then against a
# rejecting answerer (every call fails: exit 1, failures by status).
answerer load 127.0.21.2:5086 --answer --media none --max-calls 300
run "$call" "${alice[@]}" --count 300 --rate 200 --duration 0.2 --json sip:bob@127.0.21.2:5086
expect_exit 0 "load: 300 calls at 200/s"
expect_match "$OUT_FILE" '"event":"load_summary".*"attempts":300.*"failures":0.*"successes":300' "load: all 300 succeeded"
ended load && pass "the answerer saw all 300 calls end" || fail "the load answerer still runs"
[ "$(grep -c '"event":"call".*"status":200' "$TEST_TMP/load.out")" -eq 300 ] && pass "the answerer reports 300 answered calls" ||
  fail "the answerer reports $(grep -c '"status":200' "$TEST_TMP/load.out") answered calls"
answerer loadbusy 127.0.21.2:5088 --reject 503 --max-calls 20
run "$call" "${alice[@]}" --count 20 --rate 100 --json sip:bob@127.0.21.2:5088
expect_exit 1 "load against a rejecting answerer"
expect_match "$OUT_FILE" '"failures":20,"failures_by_status":\{"503":20\}' "load: failures counted by status"
expect_stderr_line "20 of 20 calls failed" "load: the failure says how many"

# A MESSAGE, and the answerer's bad inputs.
answerer uas 127.0.21.3:5060 --answer --codec pcmu
run "$call" "${alice[@]}" --message "hello bob" --json sip:bob@127.0.21.3
expect_exit 0 "MESSAGE to the answerer"
expect_match "$OUT_FILE" '"event":"message_sent".*"status":200' "the MESSAGE got 200"
wait_for 3 grep -q '"event":"message".*"text":"hello bob"' "$TEST_TMP/uas.out" &&
  pass "the answerer printed the MESSAGE" || fail "the answerer did not print the MESSAGE"

run "$call" "${alice[@]}" --codec pcma --json sip:bob@127.0.21.3
expect_exit 1 "an offer with only a codec the answerer refuses"
expect_match "$OUT_FILE" '"status":488' "unsupported codec only: 488"

# invite_raw BODY: an INVITE with BODY as application/sdp; prints the final status line.
invite_raw() {
  python3 - "$1" <<'PY'
import socket, sys, uuid
body = sys.argv[1].replace("\\n", "\r\n")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.21.1", 0))
port = s.getsockname()[1]
branch = "z9hG4bK-" + uuid.uuid4().hex[:12]
text = (f"INVITE sip:bob@127.0.21.3 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.21.1:{port};branch={branch}\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:dave@ims.test>;tag=1234\r\nTo: <sip:bob@ims.test>\r\n"
        f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContact: <sip:dave@127.0.21.1:{port}>\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")
s.sendto(text.encode(), ("127.0.21.3", 5060))
s.settimeout(3)
try:
    while True:
        answer = s.recv(65535).decode(errors="replace")
        if not answer.startswith("SIP/2.0 1"):
            print(answer.split("\r\n")[0])
            for line in answer.split("\r\n"):
                if line.lower().startswith("warning:"):
                    print(line)
            # ACK the final answer (same branch, as RFC 3261 17.1.1.3 asks).
            ack = text.split("Content-Type")[0].replace("INVITE sip", "ACK sip", 1).replace("1 INVITE", "1 ACK")
            to = [l for l in answer.split("\r\n") if l.lower().startswith("to:")][0]
            ack = ack.replace("To: <sip:bob@ims.test>", to)
            s.sendto((ack + "Content-Length: 0\r\n\r\n").encode(), ("127.0.21.3", 5060))
            break
except socket.timeout:
    print("timeout")
PY
}
invite_raw 'this is not SDP\n' >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 488" "malformed SDP offer: 488"
expect_match "$TEST_TMP/answer" "^Warning: 399 .*malformed SDP" "the 488 says why in a Warning"
invite_raw 'v=0\no=- 1 1 IN IP4 127.0.21.1\ns=-\nc=IN IP4 127.0.21.1\nt=0 0\nm=audio 4000 RTP/AVP 18\na=rtpmap:18 G729/8000\n' >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 488" "an offer of G.729 only: 488"
invite_raw 'v=0\no=- 1 1 IN IP4 127.0.21.1\ns=-\nc=IN IP4 127.0.21.1\nt=0 0\nm=video 4000 RTP/AVP 96\na=rtpmap:96 H264/90000\n' >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 488" "an offer without audio: 488"
"$send" 127.0.21.1 127.0.21.3:5060 BYE sip:bob@127.0.21.3 sip:dave@ims.test "To: <sip:bob@ims.test>;tag=nosuchdialog" >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 481" "BYE for an unknown dialog: 481"
"$send" 127.0.21.1 127.0.21.3:5060 OPTIONS sip:bob@127.0.21.3 sip:dave@ims.test >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 200" "OPTIONS: 200"
# A dialog no BYE could be sent in (the barrage once crashed the answerer so).
"$send" 127.0.21.1 127.0.21.3:5060 INVITE sip:bob@127.0.21.3 sip:dave@ims.test "Contact: <tel:+15551234>" >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 400" "an INVITE whose Contact is no SIP URI: 400"
"$send" 127.0.21.1 127.0.21.3:5060 INVITE sip:bob@127.0.21.3 sip:dave@ims.test "Record-Route: <http://127.0.21.1/>" >"$TEST_TMP/answer"
expect_match "$TEST_TMP/answer" "^SIP/2.0 400" "an INVITE with a Record-Route that is no SIP URI: 400"

# SIGTERM ends the answerer with exit 0 and reports the refused calls.
kill -TERM "$PID_uas"
ended uas && pass "SIGTERM stops the answerer" || fail "the answerer ignores SIGTERM"
wait "$PID_uas" && pass "the answerer exits 0 after SIGTERM" || fail "the answerer exits $? after SIGTERM"
[ "$(grep -c '"event":"call".*"status":488' "$TEST_TMP/uas.out")" -eq 4 ] && pass "the answerer reports the four 488s" ||
  fail "the answerer's 488 reports: $(grep -c '"status":488' "$TEST_TMP/uas.out")"

# Nobody there: no answer → exit 3; usage errors → exit 2; a port in use → exit 5.
run "$call" "${alice[@]}" --timeout 1 sip:bob@127.0.21.9:5060
expect_exit 3 "a call to an address where nobody listens"
expect_stderr_line "no answer" "the failure says no answer"
run "$call" --local 127.0.21.1 sip:bob@127.0.21.9
expect_exit 2 "a call without an identity"
run "$call" "${alice[@]}" --answer sip:bob@127.0.21.9
expect_exit 2 "--answer without --listen"
run "$call" --listen 127.0.21.2:5080 --answer --reject 486
expect_exit 2 "--answer with --reject"
run "$call" "${alice[@]}" not-a-uri
expect_exit 2 "a malformed target URI"
answerer hog 127.0.21.2:5082 --answer
run "$call" --listen 127.0.21.2:5082 --answer
expect_exit 5 "a port in use"
finish
