#!/usr/bin/env bash
# ims-call through a p2p-node core: bob registers with ims-register, his
# contact an `ims-call --listen --answer`; alice registers, sends bob a
# MESSAGE and calls him with what her registration returned (--registration:
# local address, Service-Route, P-Associated-URI); both report RTP. Then the
# failures a caller meets: unknown user (404, exit 1), a user without a
# binding (480, exit 1), a request from an unregistered address (403, exit 4),
# a dead proxy and an unreachable one (exit 3), a rejecting callee (exit 1).
# Hosts: 127.0.20.1 p2p-node, .2 alice, .3 bob, .4 a stranger, .9 a dead proxy.
# Usage: ims-call-p2p-node.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
csv=$TEST_TMP/subscribers.csv
cat >"$csv" <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,
bob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,
carol@ims.test,sip:carol@ims.test,md5,carol-pw,,,,,
CSV
p2p_node_start a 127.0.20.1 5060 "$csv" --json
node=127.0.20.1:5060

# bob's terminal: an answering ims-call on the contact he registers.
"$call" --listen 127.0.20.3:5070 --answer --answer-delay 0.2 --max-calls 1 --json \
  >"$TEST_TMP/bob.out" 2>"$TEST_TMP/bob.err" &
bob_pid=$!
track $bob_pid
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/bob.out" || fail "bob's answerer did not start"
run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy sip:$node --local 127.0.20.3 --contact sip:bob@127.0.20.3:5070
expect_exit 0 "bob registers his ims-call answerer as contact"
run "$reg" --subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.20.2 --json
expect_exit 0 "alice registers"
cp "$OUT_FILE" "$TEST_TMP/alice.json"

run "$call" --registration "$TEST_TMP/alice.json" --message "hello bob" --json sip:bob@ims.test
expect_exit 0 "alice sends bob a MESSAGE through the node (--registration)"
expect_match "$OUT_FILE" '"event":"message_sent".*"status":200' "the MESSAGE got 200 from bob"
wait_for 3 grep -q '"event":"message".*"from":"sip:alice@ims.test".*"text":"hello bob"' "$TEST_TMP/bob.out" &&
  pass "bob's answerer printed the MESSAGE" || fail "bob did not print the MESSAGE"

# The registration read from stdin, as a pipe from ims-register would give it.
run sh -c "\"$call\" --registration - --duration 2 --json sip:bob@ims.test <\"$TEST_TMP/alice.json\""
expect_exit 0 "alice calls bob through the node"
cp "$OUT_FILE" "$TEST_TMP/alice-call.out"
expect_match "$OUT_FILE" '"event":"call".*"from":"sip:alice@ims.test".*"status":200' "the call was answered"
for _ in $(seq 50); do kill -0 $bob_pid 2>/dev/null || break; sleep 0.1; done
kill -0 $bob_pid 2>/dev/null && fail "bob's answerer still runs after --max-calls 1" || pass "bob's answerer exits after the call"
python3 - "$TEST_TMP/alice-call.out" "$TEST_TMP/bob.out" <<'PY' && pass "RTP flowed both ways without loss" || fail "RTP statistics"
import json, sys
def last_call(path):
    return [json.loads(l) for l in open(path) if '"event":"call"' in l][-1]
alice, bob = last_call(sys.argv[1]), last_call(sys.argv[2])
ok = True
for who, call in (("alice", alice), ("bob", bob)):
    m = call["media"]
    print(f"  {who}: setup {call['setup_ms']} ms, 18x {call['provisional_ms']} ms, duration {call['duration_s']} s, "
          f"sent {m['packets_sent']}, received {m['packets_received']}, lost {m['packets_lost']}, jitter {m['jitter_ms']} ms")
    ok = ok and m["packets_received"] >= 80 and m["packets_lost"] == 0 and call["status"] == 200
ok = ok and alice["call_id"] == bob["call_id"] and bob["ended_by"] == "remote"
sys.exit(0 if ok else 1)
PY
expect_match "$TEST_TMP/bob.out" '"identity":"<sip:alice@ims.test>"' "bob sees alice's P-Preferred-Identity"
grep -q '"method":"INVITE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the node routed the INVITE" ||
  fail "no routed INVITE event on the node"
grep -q '"method":"BYE".*"status":200' "$TEST_TMP/p2p-a/stdout" && pass "the BYE passed the node (Record-Route)" ||
  fail "the BYE did not pass the node"

# Failures.
alice=(--subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.20.2)
run "$call" "${alice[@]}" --json sip:nobody@ims.test
expect_exit 1 "a call to a non-existent user"
expect_match "$OUT_FILE" '"status":404' "404 for the unknown user"
expect_stderr_line "404" "the failure names 404"
run "$call" "${alice[@]}" --json sip:carol@ims.test
expect_exit 1 "a call to a user without a binding"
expect_match "$OUT_FILE" '"status":480' "480 for carol"
# From an address without a binding the node asks for Digest (407).
run "$call" --impu sip:alice@ims.test --proxy sip:$node --local 127.0.20.4 sip:bob@ims.test
expect_exit 4 "a call from elsewhere without credentials"
expect_stderr_line "challenged for realm \"ims.test\" but no credentials" "the failure says so"
run "$call" --impu sip:alice@ims.test --password wrong --proxy sip:$node --local 127.0.20.4 sip:bob@ims.test
expect_exit 4 "a call from elsewhere with a wrong password"
blackhole 127.0.20.9 5060
dead=(--subscribers "$csv" --impi alice@ims.test --local 127.0.20.2)
run "$call" "${dead[@]}" --proxy sip:127.0.20.9:5060 --timeout 1 sip:bob@ims.test
expect_exit 3 "a dead proxy (no answer)"
expect_stderr_line "no answer from sip:127.0.20.9:5060 within 1 s" "the failure names the proxy"
run "$call" "${dead[@]}" --proxy sip:127.0.20.9:5099 --timeout 2 sip:bob@ims.test
expect_exit 3 "an unreachable proxy (ICMP port unreachable)"
run "$call" "${dead[@]}" --proxy sip:127.0.20.9:5060 --timeout 1 --message hi sip:bob@ims.test
expect_exit 3 "a MESSAGE to a dead proxy"

# A busy callee through the node.
"$call" --listen 127.0.20.3:5072 --reject 486 --max-calls 3 >"$TEST_TMP/busy.out" 2>&1 &
track $!
wait_for 3 sh -c "ss -Huln | grep -q '127.0.20.3:5072 '" || fail "the busy answerer did not bind"
run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy sip:$node --local 127.0.20.3 --contact sip:bob@127.0.20.3:5072
expect_exit 0 "bob registers a busy terminal (the newest binding wins)"
run "$call" --subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.20.4 --message "via Digest" --json sip:bob@ims.test
expect_exit 0 "a MESSAGE from elsewhere answers the 407 with Digest MD5"
run "$call" "${alice[@]}" --json sip:bob@ims.test
expect_exit 1 "a call to a busy callee"
expect_match "$OUT_FILE" '"status":486' "486 came back through the node"
run "$call" --subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.20.4 --json sip:bob@ims.test
expect_exit 1 "a call from elsewhere, Digest answered, to the busy callee"
expect_match "$OUT_FILE" '"status":486' "the INVITE passed the 407 and reached bob"

# A registration kept by `ims-register --keep` holds its port: ims-call sends
# from another port of the same address (which the node accepts).
"$reg" --subscribers "$csv" --impi alice@ims.test --proxy sip:$node --local 127.0.20.2 --keep --json \
  >"$TEST_TMP/alice-keep.json" 2>"$TEST_TMP/alice-keep.err" &
keep_pid=$!
track $keep_pid
wait_for 5 grep -q '"event":"registered"' "$TEST_TMP/alice-keep.json" || fail "ims-register --keep did not register"
run "$call" --registration "$TEST_TMP/alice-keep.json" --json sip:bob@ims.test
expect_exit 1 "a call with the registration of a running ims-register --keep (busy callee)"
expect_match "$OUT_FILE" '"status":486' "the call reached bob from another port"
kill -TERM $keep_pid
wait_for 5 grep -q '"event":"unregistered"' "$TEST_TMP/alice-keep.json" && pass "ims-register --keep deregistered" ||
  fail "ims-register --keep did not deregister"
finish
