#!/usr/bin/env bash
# Load balancing among core nodes with no load balancer: three nodes publish
# signed load records in the overlay; n3 is capped (--max-rate). A
# registration load from ims-register --core-overlay spreads over the nodes
# with no node above its cap and no failure; n2 killed mid-load, the clients
# move to the survivors with no failed registration. A load record signed by
# another CA's node is ignored; bad option values are refused.
# Hosts: 127.0.110.1-3 nodes (SIP 5060, DHT 4222), .9 an intruder node,
# .20 the load client, .21 the probe, .22 a caller, .23 its callee. Usage: core-balance.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
reg=$build/tools/ims-register
probe=$build/tools/overlay-probe
node=$build/tools/p2p-node
cd "$TEST_TMP"
users_csv users.csv 400
cap=20
overlay_ca n1 n2 n3

# Bad option values, before any I/O.
bad_node() { run "$node" --listen 127.0.110.1 --subscribers users.csv --state-dir bad --domain ims.test "$@"; }
bad_node --max-rate -5
expect_exit 2 "p2p-node: a negative --max-rate"
expect_stderr_line "invalid --max-rate -5" "said so"
bad_node --max-rate 10 --overload-threshold 1.5
expect_exit 2 "p2p-node: --overload-threshold above 1"
expect_stderr_line "invalid --overload-threshold 1.5: give a fraction of --max-rate in \(0, 1\]" "said so"
bad_node --overload-threshold 0
expect_exit 2 "p2p-node: --overload-threshold 0"
bad_node --retry-after 0
expect_exit 2 "p2p-node: --retry-after 0"
expect_stderr_line "invalid --retry-after 0: give 1 to 3600 seconds" "said so"
bad_node --load-interval 0
expect_exit 2 "p2p-node: --load-interval 0"
expect_stderr_line "invalid --load-interval 0: give 1 to 200 seconds" "said so"
run "$reg" --subscribers users.csv --impi u1@ims.test --core-overlay 127.0.110.1:4222
expect_exit 2 "ims-register: --core-overlay without --core-ca"
expect_stderr_line "--core-overlay needs --core-ca FILE" "said so"
run "$reg" --subscribers users.csv --impi u1@ims.test --core-overlay 127.0.110.1:4222 --core-ca ca/ca.crt --proxy sip:127.0.110.1
expect_exit 2 "ims-register: --core-overlay with --proxy"
expect_stderr_line "--core-overlay picks the proxy: leave out --proxy" "said so"
run "$reg" --subscribers users.csv --impi u1@ims.test --core-overlay 127.0.110.1 --core-ca ca/ca.crt
expect_exit 2 "ims-register: --core-overlay without a port"
expect_stderr_line "--core-overlay '127.0.110.1' is not HOST:PORT" "said so"
run "$reg" --subscribers users.csv --impi u1@ims.test --core-overlay 127.0.110.1:4222 --core-ca ca/ca.crt --core-attempts 0
expect_exit 2 "ims-register: --core-attempts 0"
run "$reg" --subscribers users.csv --impi u1@ims.test --core-ca ca/ca.crt --proxy sip:127.0.110.1
expect_exit 2 "ims-register: --core-ca without --core-overlay"
run "$build/tools/ims-call" sip:u2@ims.test --subscribers users.csv --impi u1@ims.test --core-overlay 127.0.110.1:4222
expect_exit 2 "ims-call: --core-overlay without --core-ca"
run "$probe" core
expect_exit 2 "overlay-probe core without --core-overlay"
expect_stderr_line "overlay-probe core needs --core-overlay HOST:PORT and --core-ca FILE" "said so"

overlay_node_start n1 127.0.110.1 users.csv -- --load-interval 1
overlay_node_start n2 127.0.110.2 users.csv 127.0.110.1:4222 -- --load-interval 1
overlay_node_start n3 127.0.110.3 users.csv 127.0.110.1:4222 127.0.110.2:4222 -- --load-interval 1 --max-rate $cap

core=(--core-overlay 127.0.110.1:4222 --core-ca ca/ca.crt)
three_nodes() {
  "$probe" core "${core[@]}" --bind 127.0.110.21 --json >probe.json 2>probe.err && grep -q '"nodes":3' probe.json
}
wait_for 30 three_nodes && pass "overlay-probe core lists the three nodes' load records" ||
  { fail "the three load records never showed"; cat probe.json probe.err; }
# Bindings stored through each node within a second: the overlay has settled.
settled() {
  local n
  for n in 1 2 3; do
    "$reg" --subscribers users.csv --impi u$n@ims.test --proxy sip:127.0.110.$n --local 127.0.110.20 --timeout 1 || return 1
  done
}
wait_for 60 settled && pass "registrations through each node answer within a second" || fail "the core never settled"
run "$probe" core "${core[@]}" --bind 127.0.110.21
expect_exit 0 "overlay-probe core, text"
expect_match "$OUT_FILE" "n3 +sip:127.0.110.3:5060 .* $cap " "n3 listed with its cap"
run "$probe" core "${core[@]}" --bind 127.0.110.21 --nagios --critical overloaded_nodes=2
expect_exit 0 "overlay-probe core --nagios"
expect_match "$OUT_FILE" "^CORE OK: 3 core node.*[|] 'nodes'=3" "the Nagios line counts the nodes, with perfdata"

# One registration through discovery.
run "$reg" --subscribers users.csv --impi u1@ims.test "${core[@]}" --local 127.0.110.20 --json
expect_exit 0 "ims-register --core-overlay registers through a discovered node"
expect_match "$OUT_FILE" '"proxy":"sip:127.0.110.[123]:5060"' "its proxy is one of the core nodes"

# ims-call through a discovered node: u3's answerer registered (through
# discovery too), u1 sends it a MESSAGE through whichever node is picked.
"$build/tools/ims-call" --listen 127.0.110.23:5070 --answer --max-calls 5 --json >u3.out 2>u3.err &
track $!
wait_for 5 grep -q '"event":"listening"' u3.out || fail "u3's answerer did not start"
run "$reg" --subscribers users.csv --impi u3@ims.test "${core[@]}" --local 127.0.110.23 --contact sip:u3@127.0.110.23:5070
expect_exit 0 "u3 registers its answerer through a discovered node"
run "$build/tools/ims-call" --subscribers users.csv --impi u1@ims.test "${core[@]}" --local 127.0.110.22 \
  --message "hello u3" --json sip:u3@ims.test
expect_exit 0 "ims-call --core-overlay sends a MESSAGE through a discovered node"
wait_for 3 grep -q '"text":"hello u3"' u3.out && pass "u3 got the MESSAGE" || fail "u3 did not get the MESSAGE"

# overlay-probe all reads a [core.NAME] section.
cat >testbed.toml <<'TOML'
[core.balance]
core-overlay = "127.0.110.1:4222"
core-ca = "ca/ca.crt"
bind = "127.0.110.21"
TOML
run "$probe" all --testbed testbed.toml
expect_exit 0 "overlay-probe all with a [core.balance] section"
expect_match "$OUT_FILE" "n3 +sip:127.0.110.3:5060" "it lists the nodes"

# The load: 40 registrations/s for 12 s, ~13/s per node if spread evenly;
# n3 sheds past 80 % of its cap of 20 new requests/s.
load() {
  "$reg" --subscribers users.csv "${core[@]}" --local 127.0.110.20 --rate 40 --duration 12 --timeout 2 --json "$@"
}
load >load1.json 2>load1.err && rc=0 || rc=$?
[ $rc -eq 0 ] && pass "the load through --core-overlay ended without failure" || { fail "load exit $rc"; tail -3 load1.err; }
summary() { python3 - "$1" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"load_summary"' in l][-1]
print(s["successes"], s["failures"], s["moved"], " ".join(f'{k}={v["successes"]}' for k, v in sorted(s["per_node"].items())))
PY
}
read -r ok failed moved shares < <(summary load1.json)
echo "info: load 1: $ok ok, $failed failed, $moved moved; per node: $shares"
[ "$failed" = 0 ] && [ "$ok" -ge 400 ] && pass "$ok registrations, zero failures" || fail "$ok ok, $failed failed"
case " $shares " in *127.0.110.1:5060=*127.0.110.2:5060=*127.0.110.3:5060=*) pass "every node took a share";; *) fail "not every node took a share: $shares";; esac
peak=$(grep '"event":"load"' p2p-n3/stdout | python3 -c 'import json,sys; print(max([json.loads(l)["peak"] for l in sys.stdin] or [0]))')
[ "$peak" -le $cap ] && pass "n3 never served more than its cap ($peak of $cap new requests in a second)" ||
  fail "n3 served $peak new requests in a second, cap $cap"

# n2 killed 4 s into a second load: its clients move to n1 and n3. With a
# 2 s transaction timeout a loaded machine can also time out a live node
# (avoided for 30 s), so these clients may try up to 6 nodes before failing.
load --core-attempts 6 >load2.json 2>load2.err &
load_pid=$!
track $load_pid
sleep 4
{ kill -9 "$P2P_PID_n2"; wait "$P2P_PID_n2"; } 2>/dev/null || true
set +e; wait $load_pid; rc=$?; set -e
read -r ok failed moved shares < <(summary load2.json)
echo "info: load 2 (n2 killed after 4 s): $ok ok, $failed failed, $moved moved; per node: $shares"
[ $rc -eq 0 ] && [ "$failed" = 0 ] && pass "n2 killed mid-load: no failed registration once retried ($moved moved)" ||
  { fail "n2 killed mid-load: exit $rc, $failed failed"; tail -3 load2.err; grep -v '"event":"registered"' load2.json | tail -3; }
[ "$moved" -gt 0 ] && pass "registrations in flight to n2 moved to survivors" || fail "nothing moved after n2 died"
gone() { "$probe" core "${core[@]}" --bind 127.0.110.21 --json >probe.json 2>/dev/null && grep -q '"nodes":2' probe.json; }
wait_for 10 gone && pass "n2's load record lapsed by itself" || fail "n2's record is still listed"

# An intruder with its own CA publishes a load record claiming to be idle:
# core nodes refuse to store it, readers drop it, no client goes there.
"$node" ca init --dir evil-ca >/dev/null
"$node" ca issue n9 --dir evil-ca >/dev/null
p2p_node_start n9 127.0.110.9 5060 users.csv --json --dht 127.0.110.9 --credentials evil-ca --node-name n9 \
  --bootstrap 127.0.110.1:4222 --bootstrap 127.0.110.3:4222 --load-interval 1
sleep 3
run "$probe" core "${core[@]}" --bind 127.0.110.21 --json
expect_exit 0 "overlay-probe core with an intruder in the overlay"
expect_no_match "$OUT_FILE" '"node":"n9"' "the forged load record is not listed"
"$reg" --subscribers users.csv "${core[@]}" --local 127.0.110.20 --rate 40 --count 80 --timeout 2 --json >load3.json 2>load3.err || true
read -r ok failed moved shares < <(summary load3.json)
echo "info: load 3 (intruder present): $ok ok, $failed failed; per node: $shares"
[ "$failed" = 0 ] && [[ "$shares" != *127.0.110.9* ]] && pass "no registration went to the intruder" ||
  fail "intruder load: $failed failed, shares $shares"
finish
