#!/usr/bin/env bash
# --trace and --expect: a registration and a call through a p2p-node, traced
# as pcaps and read back with tshark (call flow, real addresses and ports, the
# TCP connection's own local port, the same ports in the node's trace);
# --trace - on stderr; --expect passing, failing, on an expected rejection,
# with bad syntax; an unwritable trace file; overlay-probe sip --trace.
# Hosts: 127.0.120.1 p2p-node, .2 alice, .3 bob (an answering ims-call).
# Usage: sip-trace-expect.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
probe=$build/tools/overlay-probe
command -v tshark >/dev/null || { echo "tshark is not installed (scripts/setup installs it)"; exit 1; }
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
CSV
p2p_node_start a 127.0.120.1 5060 "$csv" --transport both --trace "$TEST_TMP/node.pcap"
node=127.0.120.1:5060
alice=(--subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.120.2)

# fields PCAP FIELD...: tshark's fields of the SIP frames, tab-separated.
fields() {
  local pcap=$1
  shift
  local args=()
  for field in "$@"; do args+=(-e "$field"); done
  tshark -r "$pcap" -Y sip -T fields -E occurrence=f "${args[@]}" 2>/dev/null
}

# A registration over UDP.
run "$reg" "${alice[@]}" --json --trace "$TEST_TMP/reg.pcap"
expect_exit 0 "alice registers with --trace"
local_port=$(json_field "$OUT_FILE" registered local | sed 's/.*://')
fields "$TEST_TMP/reg.pcap" ip.src udp.srcport ip.dst udp.dstport sip.Method sip.Status-Code >"$TEST_TMP/reg.flow"
echo "  tshark -r reg.pcap:"
sed 's/^/    /' "$TEST_TMP/reg.flow"
expected=$(printf '127.0.120.2\t%s\t127.0.120.1\t5060\tREGISTER\t\n127.0.120.1\t5060\t127.0.120.2\t%s\t\t401\n127.0.120.2\t%s\t127.0.120.1\t5060\tREGISTER\t\n127.0.120.1\t5060\t127.0.120.2\t%s\t\t200' \
  "$local_port" "$local_port" "$local_port" "$local_port")
[ "$(cat "$TEST_TMP/reg.flow")" = "$expected" ] && pass "tshark decodes REGISTER/401/REGISTER/200 between 127.0.120.2:$local_port and $node" ||
  fail "the registration trace is not REGISTER/401/REGISTER/200 with the real addresses"
stamps=$(tshark -r "$TEST_TMP/reg.pcap" -T fields -e frame.time_epoch 2>/dev/null | python3 -c '
import sys, time
t = [float(l) for l in sys.stdin]
print("ok" if len(t) == 4 and t == sorted(t) and abs(t[0] - time.time()) < 60 else "bad %r" % t)')
[ "$stamps" = ok ] && pass "the trace's timestamps are now and in order" || fail "timestamps: $stamps"

# Over TCP: the local end is the connection's own port, and the node's trace shows the same.
run "$reg" "${alice[@]}" --transport tcp --json --trace "$TEST_TMP/tcp.pcap"
expect_exit 0 "alice registers over TCP with --trace"
call_id=$(json_field "$OUT_FILE" registered call_id)
listen_port=$(json_field "$OUT_FILE" registered local | sed 's/.*://')
ue_view=$(tshark -r "$TEST_TMP/tcp.pcap" -Y "sip.Method == REGISTER" -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | head -1)
node_view=$(tshark -r "$TEST_TMP/node.pcap" -Y "sip.Call-ID == \"$call_id\" && sip.Method == REGISTER" -T fields -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | head -1)
echo "  the first REGISTER over TCP: UE's trace [$ue_view], node's trace [$node_view]"
[ -n "$ue_view" ] && [ "$ue_view" = "$node_view" ] && pass "both traces show the same TCP ends" ||
  fail "the UE's and the node's traces disagree on the TCP ends"
[ "$(echo "$ue_view" | cut -f2)" != "$listen_port" ] && pass "the TCP local port is the connection's, not the listening port $listen_port" ||
  fail "the TCP local port is the listening port"
[ "$(fields "$TEST_TMP/tcp.pcap" sip.Status-Code | tr -d '\t\n')" = 401200 ] && pass "the TCP trace holds the 401 and the 200" ||
  fail "the TCP trace lacks the responses"

# --trace -: a readable log on stderr.
run "$reg" "${alice[@]}" --trace -
expect_exit 0 "alice registers with --trace -"
expect_match "$ERR_FILE" '^[0-9-]{10}T[0-9:.]{15}Z sent udp 127\.0\.120\.2:[0-9]+ -> 127\.0\.120\.1:5060 \([0-9]+ bytes\)$' \
  "stderr has a line per message sent, with both ends"
expect_match "$ERR_FILE" '^  SIP/2\.0 401 Unauthorized$' "stderr has the 401 in full"
expect_match "$ERR_FILE" '^  SIP/2\.0 200 OK$' "stderr has the 200"
expect_match "$OUT_FILE" '^registered sip:alice@ims\.test' "stdout keeps the result"

# --expect on the registration.
run "$reg" "${alice[@]}" --expect status=2xx --expect header:Service-Route --expect 'header:P-Associated-URI~alice@ims\.test' --expect 'time<5000'
expect_exit 0 "every --expect passes"
expect_match "$OUT_FILE" '^PASS status=2xx on "SIP/2.0 200 OK"$' "PASS names the message checked"
expect_match "$OUT_FILE" '^PASS time<5000 on "SIP/2.0 200 OK"$' "the response time passes"
run "$reg" "${alice[@]}" --json --expect status=200 --expect header:Path --expect 'header:Service-Route~^<sip:term@'
expect_exit 1 "a failing --expect exits 1"
python3 - "$OUT_FILE" <<'PY' && pass "--json: a check event per check with result, message, actual, reason" || fail "the check events"
import json, sys
checks = [json.loads(l) for l in open(sys.argv[1]) if '"event":"check"' in l]
ok = len(checks) == 3 and [c["result"] for c in checks] == ["pass", "fail", "fail"]
ok = ok and all(c["message"] == "SIP/2.0 200 OK" for c in checks) and checks[0]["actual"] == "200"
ok = ok and checks[1]["reason"] == "no Path header" and "does not match" in checks[2]["reason"]
sys.exit(0 if ok else 1)
PY
run "$reg" --subscribers "$csv" --impi alice@ims.test --password wrong --proxy sip:$node --local 127.0.120.2 --expect status=4xx
expect_exit 0 "an expected rejection passes (wrong password, --expect status=4xx)"
expect_match "$OUT_FILE" '^PASS status=4xx on "SIP/2.0 4[0-9][0-9] ' "the rejection was checked"

# Bad input.
for bad in bogus status=20 status=99x 'header:' 'header:To~(' 'time<soon'; do
  run "$reg" "${alice[@]}" --expect "$bad"
  expect_exit 2 "--expect '$bad' is a usage error"
done
expect_stderr_line "not a positive number of milliseconds" "the error says what is wrong"
run "$reg" "${alice[@]}" --trace /nonexistent-dir/reg.pcap
expect_exit 5 "an unwritable --trace file"
expect_stderr_line "cannot write the trace: /nonexistent-dir/reg\.pcap: No such file or directory" "the error names the file"
run "$call" --listen 127.0.120.3:5090 --trace /nonexistent-dir/uas.pcap
expect_exit 5 "ims-call: an unwritable --trace file"
expect_stderr_line "cannot write the trace: /nonexistent-dir/uas\.pcap: No such file or directory" "ims-call: the error names the file"
run "$call" --listen 127.0.120.3:5090 --expect status=200
expect_exit 2 "--expect with --listen"

# A call through the node, both ends traced.
"$call" --listen 127.0.120.3:5070 --answer --answer-delay 0.2 --max-calls 1 --media none --trace "$TEST_TMP/bob.pcap" --json \
  >"$TEST_TMP/bob.out" 2>"$TEST_TMP/bob.err" &
bob_pid=$!
track $bob_pid
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/bob.out" || fail "bob's answerer did not start"
run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy sip:$node --local 127.0.120.3 --contact sip:bob@127.0.120.3:5070
expect_exit 0 "bob registers his answerer"
run "$reg" "${alice[@]}" --json
cp "$OUT_FILE" "$TEST_TMP/alice.json"
run "$call" --registration "$TEST_TMP/alice.json" --duration 0.5 --media none --trace "$TEST_TMP/call.pcap" \
  --expect status=200 --expect header:Record-Route --expect 'time<10000' sip:bob@ims.test
expect_exit 0 "alice calls bob with --trace and passing --expect checks"
expect_match "$OUT_FILE" '^PASS header:Record-Route on "SIP/2.0 200 OK"$' "the 200 to the INVITE was checked"
for _ in $(seq 50); do kill -0 $bob_pid 2>/dev/null || break; sleep 0.1; done
flow() { fields "$1" sip.Method sip.Status-Code sip.CSeq.method | awk -F'\t' '{print ($1 != "" ? $1 : $2 "/" $3)}' | tr '\n' ' '; }
echo "  alice's trace: $(flow "$TEST_TMP/call.pcap")"
echo "  bob's trace:   $(flow "$TEST_TMP/bob.pcap")"
# in_order FLOW STEP...: the steps occur in FLOW in this order (others may come between).
in_order() {
  python3 - "$@" <<'PY'
import sys
it = iter(sys.argv[1].split())
sys.exit(0 if all(step in it for step in sys.argv[2:]) else 1)
PY
}
# The callee's side has every step; on alice's side the node's 100 Trying may
# be missing (nta sends it only when the next hop's answer takes a while).
in_order "$(flow "$TEST_TMP/bob.pcap")" INVITE 100/INVITE 180/INVITE 200/INVITE ACK BYE 200/BYE &&
  pass "bob.pcap: INVITE/100/180/200/ACK/BYE/200 in order" || fail "bob.pcap: the call flow"
in_order "$(flow "$TEST_TMP/call.pcap")" INVITE 180/INVITE 200/INVITE ACK BYE 200/BYE &&
  pass "call.pcap: INVITE/180/200/ACK/BYE/200 in order" || fail "call.pcap: the call flow"
sdp=$(tshark -r "$TEST_TMP/call.pcap" -Y 'sip.Method == INVITE && sdp' -T fields -e sdp.media 2>/dev/null | head -1)
[ -n "$sdp" ] && pass "the INVITE in the trace carries its SDP offer ($sdp)" || fail "the INVITE's SDP is missing from the trace"
invite_src=$(tshark -r "$TEST_TMP/call.pcap" -Y 'sip.Method == INVITE' -T fields -e ip.src -e ip.dst -e udp.dstport 2>/dev/null | head -1)
[ "$invite_src" = "$(printf '127.0.120.2\t127.0.120.1\t5060')" ] && pass "alice's INVITE went from 127.0.120.2 to the node" ||
  fail "the INVITE's addresses: $invite_src"
bob_invite=$(tshark -r "$TEST_TMP/bob.pcap" -Y 'sip.Method == INVITE' -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null | head -1)
[ "$bob_invite" = "$(printf '127.0.120.1\t5060\t127.0.120.3\t5070')" ] && pass "bob got the INVITE from the node on 127.0.120.3:5070" ||
  fail "bob's INVITE addresses: $bob_invite"
run "$call" --registration "$TEST_TMP/alice.json" --json --expect status=486 sip:nobody@ims.test
expect_exit 1 "an unmet --expect on a call"
expect_match "$OUT_FILE" '"event":"check".*"message":"SIP/2.0 404 Not Found".*"result":"fail"' "FAIL shows the 404 it was checked on"

# overlay-probe sip and the node's own trace.
run "$probe" sip --local 127.0.120.2 --count 2 --trace "$TEST_TMP/probe.pcap" sip:$node
expect_exit 0 "overlay-probe sip --trace"
[ "$(fields "$TEST_TMP/probe.pcap" ip.src sip.Method sip.Status-Code | tr '\t\n' '  ')" = "127.0.120.2 OPTIONS  127.0.120.1  200 127.0.120.2 OPTIONS  127.0.120.1  200 " ] &&
  pass "the probe's trace holds its two OPTIONS and their 200s" || fail "the probe's trace: $(fields "$TEST_TMP/probe.pcap" ip.src sip.Method sip.Status-Code | tr '\t\n' '  ')"
[ "$(tshark -r "$TEST_TMP/node.pcap" -Y 'sip.Method == INVITE' 2>/dev/null | wc -l)" -ge 2 ] &&
  pass "the node's trace holds the INVITE in and out" || fail "the node's trace lacks the INVITE"
p2p_node_stop a
finish
