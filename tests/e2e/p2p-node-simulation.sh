#!/usr/bin/env bash
# Simulation mode: one p2p-node runs 64 DHT nodes (--nodes 64) on
# consecutive ports behind one SIP front; it reports the overlay ready only
# once probe lookups succeed. A second, ordinary node joins through two of
# the simulated nodes; users registered through the first are reachable by
# MESSAGE through the second; SIGTERM stops all 64 nodes promptly.
# Hosts: 127.0.26.1 the simulating node (SIP 5060, DHT 4400-4463), .2 an
# ordinary node, .10 the users' UA (sipp), .11 the sender.
# Usage: p2p-node-simulation.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/sipp.sh"
reg=$build/tools/ims-register
users=20
csv=$TEST_TMP/subscribers.csv
users_csv "$csv" $users
overlay_ca sim n2

# The SIP front answers once the overlay is ready (or given up on).
p2p_node_start sim 127.0.26.1 5060 "$csv" --json --dht 127.0.26.1:4400 --nodes 64 \
  --credentials "$TEST_TMP/ca" --node-name sim
wait_for 60 grep -q '"event":"overlay_ready"' "$TEST_TMP/p2p-sim/stdout" || true
expect_match "$TEST_TMP/p2p-sim/stdout" '"event":"overlay_ready".*"nodes":64.*"ready":true' \
  "64 simulated nodes ready by probe lookups"
echo "info: $(grep -o '"event":"overlay_ready".*' "$TEST_TMP/p2p-sim/stdout")"
threads=$(ls "/proc/$P2P_PID_sim/task" | wc -l)
fds=$(ls "/proc/$P2P_PID_sim/fd" | wc -l)
echo "info: the simulating process has $threads threads and $fds descriptors"
[ "$fds" -lt 200 ] && pass "one descriptor per simulated node (no select() thread each): $fds in all" ||
  fail "$fds descriptors for 64 nodes"

overlay_node_start n2 127.0.26.2 "$csv" 127.0.26.1:4420 127.0.26.1:4440
sipp_uas users message-uas 127.0.26.10 5070 6700 100000

failed=0
for i in $(seq 1 $users); do
  "$reg" --impu sip:u$i@ims.test --password pw-$i --proxy sip:127.0.26.1 --local 127.0.26.10 \
    --contact sip:u$i@127.0.26.10:5070 --expires 600 >/dev/null 2>>"$TEST_TMP/reg.err" || failed=$((failed + 1))
done
[ $failed -eq 0 ] && pass "$users users registered through the simulating node" || fail "$failed of $users registrations failed"

message_all() {
  echo SEQUENTIAL >"$TEST_TMP/many.csv"
  for i in $(seq 1 $users); do echo "probe;elsewhere.test;u$i;ims.test" >>"$TEST_TMP/many.csv"; done
  timeout 60 sipp "$1:5060" -sf "$SIPP_SCENARIOS/message-uac-many.xml" -inf "$TEST_TMP/many.csv" \
    -i 127.0.26.11 -p 5080 -mp 6800 -m $users -r 100 -nostdin -timeout 30 -timeout_error >/dev/null 2>&1
}
wait_for 20 message_all 127.0.26.2 && pass "every user is reachable through the ordinary node" ||
  fail "some users were unreachable through the ordinary node"

start=$(date +%s%N)
p2p_node_stop sim
took=$((($(date +%s%N) - start) / 1000000))
echo "info: SIGTERM to exit: $took ms"
kill -0 "$P2P_PID_sim" 2>/dev/null && fail "the simulating node did not stop on SIGTERM" ||
  pass "SIGTERM stops the 64 nodes ($took ms)"
expect_no_match "$TEST_TMP/p2p-sim/stderr" 'AddressSanitizer|runtime error|terminate called' "no crash on the way out"
finish
