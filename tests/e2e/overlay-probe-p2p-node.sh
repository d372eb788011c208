#!/usr/bin/env bash
# overlay-probe against a p2p-node core: a simulated overlay of 16 DHT nodes
# (p2p-node --nodes 16) crawled completely; OPTIONS and a register check on
# its SIP front; --resolve finds a registered user's binding, verified
# against the overlay CA, and refuses it against another CA; `all` probes
# the core from a testbed file.
# Hosts: 127.0.0.81 the core (SIP 5060, DHT 25100-25115), .80 the probe,
# .88 the users' contact address.
# Usage: overlay-probe-p2p-node.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
probe=$build/tools/overlay-probe
reg=$build/tools/ims-register
network=4803923 # p2p-node's default network id
csv=$TEST_TMP/subscribers.csv
users_csv "$csv" 3
overlay_ca sim
"$build/tools/p2p-node" ca init --dir "$TEST_TMP/other-ca" >/dev/null

p2p_node_start sim 127.0.0.81 5060 "$csv" --json --dht 127.0.0.81:25100 --nodes 16 \
  --credentials "$TEST_TMP/ca" --node-name sim
wait_for 60 grep -q '"event":"overlay_ready"' "$TEST_TMP/p2p-sim/stdout" || true
expect_match "$TEST_TMP/p2p-sim/stdout" '"event":"overlay_ready".*"ready":true' "the 16-node core is ready"

dht=(dht --bootstrap 127.0.0.81:25100 --network-id $network --bind 127.0.0.80)
crawl_complete() {
  "$probe" --json "${dht[@]}" --crawl --lookups 5 >"$TEST_TMP/crawl.json" 2>"$TEST_TMP/crawl.err"
  [ "$(grep -c '"event":"dht_node".*"rtt_ms":[0-9]' "$TEST_TMP/crawl.json")" = 16 ]
}
wait_for 20 crawl_complete && pass "the crawl finds and pings all 16 nodes of the core" ||
  fail "crawl: $(json_field "$TEST_TMP/crawl.json" probe crawl) $(cat "$TEST_TMP/crawl.err")"
echo "info: crawl $(json_field "$TEST_TMP/crawl.json" probe crawl), size estimate $(json_field "$TEST_TMP/crawl.json" probe size_estimate)"
[ "$(json_field "$TEST_TMP/crawl.json" probe probe_found)" = true ] && pass "put → get on the core's overlay" || fail "probe value not found"

run "$reg" --impu sip:u1@ims.test --password pw-1 --proxy sip:127.0.0.81 --local 127.0.0.88 \
  --contact sip:u1@127.0.0.88:5070 --expires 600
expect_exit 0 "u1 registers with the core"

resolve=(--resolve sip:u1@ims.test --overlay 127.0.0.81:25100 --overlay-network-id $network)
run "$probe" --json sip sip:127.0.0.81:5060 --count 2 --local 127.0.0.80 "${resolve[@]}" --overlay-key "$TEST_TMP/ca/overlay.key"
expect_exit 0 "OPTIONS to the core, and u1 resolves in the overlay"
resolved=$(json_field "$OUT_FILE" probe resolve)
echo "info: resolve $resolved"
echo "$resolved" | grep -q '"resolved": true' && pass "u1's binding is resolvable" || fail "resolve: $resolved"
echo "$resolved" | grep -q '"contact": "sip:u1@127.0.0.88:5070".*"node": "sim".*"writer": "sim"' &&
  pass "the binding's contact, serving core node and writer" || fail "binding fields"
echo "$resolved" | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if len(r["served_by"]) >= 1 else 1)' &&
  pass "the overlay nodes that served it are listed" || fail "served_by empty"
expect_match "$OUT_FILE" '"event":"sip_ping".*"answered":2.*"status":200,"uri":"sip:127.0.0.81:5060"' "the core answers OPTIONS"

run "$probe" sip "${resolve[@]}" --overlay-key "$TEST_TMP/other-ca/overlay.key"
expect_exit 1 "against another CA's overlay key the binding does not count"
expect_match "$OUT_FILE" 'dropped a value: unknown-overlay-key \(writer sim\)' "the value is dropped as not under that key"
run "$probe" sip --resolve sip:u2@ims.test --overlay 127.0.0.81:25100 --overlay-network-id $network --overlay-key "$TEST_TMP/ca/overlay.key"
expect_exit 1 "a user who never registered does not resolve"
expect_stderr_line 'sip:u2@ims.test has no valid binding in the overlay' "said so"

run "$probe" sip sip:127.0.0.81:5060 --count 1 --local 127.0.0.80 --impu sip:u3@ims.test --password pw-3
expect_exit 0 "register-and-deregister check through the core"
expect_match "$OUT_FILE" 'register sip:u3@ims.test +200 OK in [0-9.]+ ms, deregister 200 OK' "register then deregister"
run "$probe" sip sip:127.0.0.81:5060 --count 1 --local 127.0.0.80 --impu sip:u3@ims.test --password nope
expect_exit 4 "a wrong password is an authentication failure"

cat >"$TEST_TMP/testbed.toml" <<TOML
[dht.core]
bootstrap = ["127.0.0.81:25100", "127.0.0.81:25108"]
network-id = $network
bind = "127.0.0.80"
lookups = 5

[sip.core]
uri = ["sip:127.0.0.81:5060"]
local = "127.0.0.80"
resolve = "sip:u1@ims.test"
overlay = ["127.0.0.81:25100"]
overlay-network-id = $network
overlay-key = "$TEST_TMP/ca/overlay.key"
TOML
run "$probe" all --testbed "$TEST_TMP/testbed.toml"
expect_exit 0 "all: the core's DHT and SIP, concurrently"
expect_match "$OUT_FILE" '^core +dht .* OK +[0-9]+ nodes reachable' "dht row"
expect_match "$OUT_FILE" '^core +sip +sip:127.0.0.81:5060 +OK .*sip:u1@ims.test resolves' "sip row"
sed 's/^/  | /' "$OUT_FILE"
expect_no_match "$TEST_TMP/p2p-sim/stderr" 'AddressSanitizer|runtime error|terminate called' "the core did not crash"
finish
