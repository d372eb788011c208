#!/usr/bin/env bash
# No single point of failure: five core nodes on the managed overlay; 50
# users register through random nodes; two nodes are killed (SIGKILL);
# within 10 s every user is still reachable by MESSAGE through each surviving
# node; a public service identity published through one node routes through
# another; a killed node restarts with the same node id and serves again.
# Hosts: 127.0.17.1-5 nodes (SIP 5060, DHT 4222), .10 the users' UA (sipp),
# .11 the sender. Usage: p2p-node-no-spof.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/sipp.sh"
reg=$build/tools/ims-register
users=50
csv=$TEST_TMP/subscribers.csv
users_csv "$csv" $users

overlay_ca n1 n2 n3 n4 n5
overlay_node_start n1 127.0.17.1 "$csv"
overlay_node_start n2 127.0.17.2 "$csv" 127.0.17.1:4222
overlay_node_start n3 127.0.17.3 "$csv" 127.0.17.1:4222 127.0.17.2:4222 -- --metrics 127.0.17.3:9100
overlay_node_start n4 127.0.17.4 "$csv" 127.0.17.1:4222 127.0.17.2:4222 127.0.17.3:4222
overlay_node_start n5 127.0.17.5 "$csv" 127.0.17.2:4222 127.0.17.3:4222 127.0.17.4:4222
expect_match "$TEST_TMP/p2p-n5/stdout" '"event":"joined"' "five nodes joined the overlay"
n1_id=$(json_field "$TEST_TMP/p2p-n1/stdout" joined node_id)

# One UA answers MESSAGE for every user.
sipp_uas users message-uas 127.0.17.10 5070 6700 100000

# message_all NODE...: one MESSAGE to each user through each NODE; true when all got 200.
message_all() {
  local node
  : >"$TEST_TMP/many.csv"
  echo SEQUENTIAL >"$TEST_TMP/many.csv"
  for i in $(seq 1 $users); do echo "probe;elsewhere.test;u$i;ims.test" >>"$TEST_TMP/many.csv"; done
  for node in "$@"; do
    timeout 60 sipp "$node:5060" -sf "$SIPP_SCENARIOS/message-uac-many.xml" -inf "$TEST_TMP/many.csv" \
      -i 127.0.17.11 -p 5080 -mp 6800 -m $users -r 100 -nostdin -timeout 30 -timeout_error \
      -trace_stat -stf "$TEST_TMP/sipp-stat.csv" >/dev/null 2>&1 || return 1
  done
}

# The overlay is ready when a binding stored through n1 resolves through n5.
ready() {
  "$reg" --impu sip:u1@ims.test --password pw-1 --proxy sip:127.0.17.1 --local 127.0.17.10 \
    --contact sip:u1@127.0.17.10:5070 --expires 600 >/dev/null &&
    "$(dirname "$0")/../lib/sip_send.py" 127.0.17.11 127.0.17.5:5060 MESSAGE sip:u1@ims.test sip:probe@elsewhere.test |
    grep -q "^SIP/2.0 200"
}
wait_for 20 ready && pass "the overlay is ready (a probe binding resolves across nodes)" || fail "the overlay never got ready"

# 50 users register through random nodes.
failed=0
for i in $(seq 1 $users); do
  node=127.0.17.$((RANDOM % 5 + 1))
  "$reg" --impu sip:u$i@ims.test --password pw-$i --proxy sip:$node --local 127.0.17.10 \
    --contact sip:u$i@127.0.17.10:5070 --expires 600 >/dev/null 2>"$TEST_TMP/reg.err" || failed=$((failed + 1))
done
[ $failed -eq 0 ] && pass "$users users registered through random nodes" || fail "$failed of $users registrations failed"

message_all 127.0.17.1 127.0.17.2 127.0.17.3 127.0.17.4 127.0.17.5 &&
  pass "every user is reachable through every node" || fail "some users were unreachable before the failure"

# A public service identity published through one node routes through another.
run "$build/tools/p2p-node" psi sip:drm@ims.test sip:drm@127.0.17.10:5070 --state-dir "$TEST_TMP/p2p-n3" --expires 600
expect_exit 0 "p2p-node psi publishes sip:drm@ims.test through n3"
psi_routes() {
  "$(dirname "$0")/../lib/sip_send.py" 127.0.17.11 127.0.17.4:5060 MESSAGE sip:drm@ims.test sip:probe@elsewhere.test |
    grep -q "^SIP/2.0 200"
}
wait_for 10 psi_routes && pass "a MESSAGE to the PSI through n4 reaches its server" || fail "the PSI did not route through n4"
run "$build/tools/p2p-node" psi sip:u1@ims.test sip:x@127.0.17.10 --state-dir "$TEST_TMP/p2p-n3"
expect_exit 1 "a subscriber's IMPU is not published as a PSI"
expect_stderr_line "the node refused: sip:u1@ims.test is a subscriber.s identity" "the refusal says why"

# A node whose certificate and overlay key come from a CA of its own joins the DHT, but the
# bindings it writes (u2 pointing at mallory's address) are never used.
"$build/tools/p2p-node" ca init --dir "$TEST_TMP/evil-ca" --name "mallory's CA" >/dev/null
"$build/tools/p2p-node" ca issue evil --dir "$TEST_TMP/evil-ca" >/dev/null
p2p_node_start evil 127.0.17.6 5060 "$csv" --json --dht 127.0.17.6 --credentials "$TEST_TMP/evil-ca" --node-name evil \
  --bootstrap 127.0.17.3:4222 --bootstrap 127.0.17.4:4222
expect_match "$TEST_TMP/p2p-evil/stdout" '"event":"joined"' "a node with a self-made certificate joins the DHT"
"$reg" --impu sip:u2@ims.test --password pw-2 --proxy sip:127.0.17.6 --local 127.0.17.12 \
  --contact sip:u2@127.0.17.12:5070 --expires 600 >/dev/null 2>&1 || true
message_all 127.0.17.3 && pass "its forged binding for u2 is not used: u2 still reached at its real contact" ||
  fail "a forged binding diverted a MESSAGE"
# Our nodes' store policy refuses the forged value, so a reader meets it only
# when the intruder itself answers a lookup: either way it is not used.
echo "info: forged values dropped by readers: $(cat "$TEST_TMP"/p2p-n*/stdout | grep -c '"event":"dropped_forged_value".*"writer":"evil"' || true)"
grep -q '"event":"dropped_forged_value".*"verdict":"unknown-overlay-key"' "$TEST_TMP/p2p-evil/stdout" &&
  pass "the intruder, for its part, drops the real nodes' values (its overlay key is not theirs)" ||
  fail "the intruder's node never checked a value"
p2p_node_stop evil

kill -9 "$P2P_PID_n1" "$P2P_PID_n2"
wait "$P2P_PID_n1" "$P2P_PID_n2" 2>/dev/null || true
killed_at=$(date +%s)
survivors=(127.0.17.3 127.0.17.4 127.0.17.5)
if wait_for 10 message_all "${survivors[@]}"; then
  pass "n1 and n2 killed: every user reachable through n3, n4 and n5 within $(($(date +%s) - killed_at)) s"
else
  fail "after killing n1 and n2, some users stayed unreachable for 10 s"
fi

curl -sf http://127.0.17.3:9100/metrics >"$TEST_TMP/metrics" || true
expect_match "$TEST_TMP/metrics" '^imsp2p_dht_nodes\{state="good"\} [1-9]' "metrics of n3: good overlay nodes"
expect_match "$TEST_TMP/metrics" '^imsp2p_location_lookups_total\{result="ok"\} [1-9]' "metrics of n3: lookups in the overlay"

# n1 comes back with its state: the same node id, and it serves again.
overlay_node_start n1 127.0.17.1 "$csv" 127.0.17.3:4222 127.0.17.4:4222
run true
new_id=$(json_field "$TEST_TMP/p2p-n1/stdout" joined node_id)
[ "$new_id" = "$n1_id" ] && pass "n1 rejoined with the same node id ($new_id)" || fail "n1 rejoined as $new_id, was $n1_id"
wait_for 15 message_all 127.0.17.1 && pass "the restarted n1 routes to every user" || fail "the restarted n1 could not route to every user"
finish
