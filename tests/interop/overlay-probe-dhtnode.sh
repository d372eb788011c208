#!/usr/bin/env bash
# overlay-probe dht against a real OpenDHT overlay: 16 Debian dhtnode
# processes (network id 25000), probed and crawled completely; a dhtnode of
# another network id gives a clear error; Nagios, Prometheus and JSON forms.
# Hosts: dhtnode ports 25000-25015 and 25020 (dhtnode binds every
# interface: it has no address option), the probe on 127.0.0.80.
# Usage: overlay-probe-dhtnode.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
probe=$build/tools/overlay-probe
network=25000
nodes=16

for i in $(seq 0 $((nodes - 1))); do
  port=$((25000 + i))
  boot=()
  # Each node joins through up to three nodes started before it.
  [ "$i" -gt 0 ] && boot=(-b 127.0.0.1:25000)
  [ "$i" -gt 4 ] && boot+=(-b 127.0.0.1:$((25000 + i / 2)) -b 127.0.0.1:$((25000 + i - 1)))
  dhtnode -s -p $port -n $network "${boot[@]}" >"$TEST_TMP/dhtnode-$port.log" 2>&1 </dev/null &
  track $!
done
dhtnode -s -p 25020 -n 31337 >"$TEST_TMP/dhtnode-other.log" 2>&1 </dev/null &
track $!
wait_for 10 sh -c "ss -Huln | grep -q ':25015 '" && pass "$nodes dhtnodes listen" || fail "the dhtnodes did not start"

dht=(dht --bootstrap 127.0.0.1:25000 --network-id $network --bind 127.0.0.80)
# The overlay needs a few seconds to settle: crawl until all nodes are found (bounded).
crawl_complete() {
  "$probe" --json "${dht[@]}" --crawl --lookups 5 >"$TEST_TMP/crawl.json" 2>"$TEST_TMP/crawl.err"
  [ "$(json_field "$TEST_TMP/crawl.json" probe crawl | python3 -c 'import json,sys; print(json.load(sys.stdin)["found"])')" = $nodes ]
}
if wait_for 60 crawl_complete; then pass "the crawl finds all $nodes dhtnodes"; else fail "crawl incomplete: $(json_field "$TEST_TMP/crawl.json" probe crawl)"; fi
echo "info: crawl $(json_field "$TEST_TMP/crawl.json" probe crawl)"
[ "$(grep -c '"event":"dht_node".*"rtt_ms":[0-9]' "$TEST_TMP/crawl.json")" = $nodes ] && pass "one dht_node event with an RTT per node" ||
  fail "dht_node events"
expect_match "$TEST_TMP/crawl.json" '"event":"dht_node","ts":"[^"]*","address":"127.0.0.1:250[0-9][0-9]","id":"[0-9a-f]{40}","probe":"dht","rtt_ms":[0-9.]+' \
  "dht_node events give id, address and RTT"

run "$probe" "${dht[@]}" --lookups 20
expect_exit 0 "dht probe of a healthy overlay"
expect_match "$OUT_FILE" 'put → get +found in' "the probe value is found again"
expect_match "$OUT_FILE" 'size estimate +[0-9]+ \(k-closest distance' "size estimate with its method"
expect_match "$OUT_FILE" 'lookups +20 \(0 failed\), p50 [0-9.]+ ms, p99 [0-9.]+ ms' "lookup latency p50/p99"
sed 's/^/  | /' "$OUT_FILE"

run "$probe" --json "${dht[@]}" --lookups 5
expect_exit 0 "dht probe with --json"
for field in reachable_nodes good_nodes dubious_nodes size_estimate size_method put_ms get_ms lookup_p50_ms lookup_p99_ms loss_pct; do
  [ "$(json_field "$OUT_FILE" probe $field)" != null ] || fail "probe event lacks $field"
done
pass "the probe event has every documented dht field"
[ "$(json_field "$OUT_FILE" probe probe_found)" = true ] && pass "probe_found true" || fail "probe_found"

run "$probe" --nagios --critical nodes=2 --warning rtt_ms=60000 "${dht[@]}" --lookups 5
expect_exit 0 "--nagios OK within the thresholds"
expect_match "$OUT_FILE" "^DHT OK: [0-9]+ nodes reachable.* \| 'nodes'=[0-9]+;;2: .*'rtt_ms'=[0-9.]+ms;60000; .*'loss_pct'=[0-9.]+%" \
  "--nagios: one line with perfdata and thresholds"
run "$probe" --nagios --critical nodes=1000 "${dht[@]}" --lookups 5
expect_exit 2 "--nagios CRITICAL below a node count"
expect_match "$OUT_FILE" '^DHT CRITICAL: .*nodes beyond critical 1000' "the crossed threshold is named"
run "$probe" --warning nodes=1000 "${dht[@]}" --lookups 5
expect_exit 1 "without --nagios, a crossed threshold exits 1"

run "$probe" --prometheus "${dht[@]}" --lookups 5
expect_exit 0 "--prometheus"
expect_match "$OUT_FILE" '^# TYPE overlay_probe_nodes gauge$' "Prometheus TYPE lines"
expect_match "$OUT_FILE" '^overlay_probe_up\{probe="dht",target="127.0.0.1:25000 network 25000"\} 1$' "overlay_probe_up"
expect_match "$OUT_FILE" '^overlay_probe_lookup_p99_seconds\{probe="dht",[^}]*\} [0-9.e-]+$' "latencies in seconds"

# A dhtnode of another network id drops our messages: a clear error, not a hang.
run "$probe" --timeout 2 dht --bootstrap 127.0.0.1:25020 --network-id $network --bind 127.0.0.80
expect_exit 3 "a dhtnode of another network id"
expect_stderr_line "no bootstrap node answered an OpenDHT ping on network $network.*127.0.0.1:25020: silent.*another network id" \
  "the network id is suggested as the cause"
run "$probe" --timeout 2 dht --bootstrap 127.0.0.1:25020 --network-id 31337 --bind 127.0.0.80 --lookups 3
expect_exit 0 "the same dhtnode with its own network id"
finish
