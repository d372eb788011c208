#!/usr/bin/env bash
# The flagship scenario (scripts/testbed): an embedded IMS/P2P testbed on
# loopback, each host on its own address.
#   127.0.1.11-13  a three-node P2P IMS core (p2p-node) on a managed overlay
#   127.0.1.2      alice's UE        127.0.1.3  bob's UE (ims-call answerer)
#   127.0.1.31     the content provider, seeding over BitTorrent
#   127.0.1.40     the licence server (DRM, charging)
#   127.0.1.90     the operator's probe
# alice and bob register with IMS AKA, alice calls bob with media and sends
# him a MESSAGE; the provider publishes encrypted content and deposits its
# key; bob buys a licence (pay-per-download: balance debited, CDR written),
# fetches the content from the swarm and decrypts it byte-exact; the probe
# finds the testbed healthy; a core node is killed, the call is placed
# again, and the probe finds the testbed degraded. Needs no third-party
# server.
# One verdict line per step (PASS/FAIL and its time); exits 0 only if every
# step passes. Usage: testbed.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/scenario.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/license.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
cd "$TEST_TMP"

cat >subscribers.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
bob@ims.test,sip:bob@ims.test;tel:+15550101,aka,,fec86ba6eb707ed08905757b1bb44b8f,dbc59adcb6f9a0ef735477b7fadf8374,,8000,000000000040
provider@ims.test,sip:provider@ims.test,md5,provider-secret,,,,,
CSV
ue() { echo --subscribers subscribers.csv --impi "$1@ims.test" --usim-state "$1.usim" --local "$2"; }

start_core() {
  overlay_ca node1 node2 node3 &&
    overlay_node_start node1 127.0.1.11 subscribers.csv -- --ind 1 &&
    overlay_node_start node2 127.0.1.12 subscribers.csv 127.0.1.11:4222 -- --ind 2 &&
    overlay_node_start node3 127.0.1.13 subscribers.csv 127.0.1.11:4222 127.0.1.12:4222 -- --ind 3
}
bob_registers() {
  "$call" --listen 127.0.1.3:5070 --answer --answer-delay 0.2 --json >bob-ue.out 2>bob-ue.err &
  track $!
  wait_for 5 grep -q '"event":"listening"' bob-ue.out || return 1
  # The overlay settles within seconds: the first registration is retried until it does.
  wait_for 15 sh -c "\"$reg\" $(ue bob 127.0.1.3) --proxy sip:127.0.1.13 --contact sip:bob@127.0.1.3:5070 --json >bob.json" &&
    grep -q '"algorithm":"AKAv1-MD5"' bob.json
}
alice_registers() {
  # shellcheck disable=SC2046
  "$reg" $(ue alice 127.0.1.2) --proxy sip:127.0.1.11 --json >alice.json && grep -q '"algorithm":"AKAv1-MD5"' alice.json
}
# rtp_flowed ALICE_OUT: the last call in alice's output and in bob's was
# answered, is the same call, and carried RTP both ways without loss.
rtp_flowed() {
  python3 - "$1" bob-ue.out "$STEP_DETAIL" <<'PY'
import json, sys
def last_call(path):
    return [json.loads(l) for l in open(path) if '"event":"call"' in l][-1]
alice, bob = last_call(sys.argv[1]), last_call(sys.argv[2])
ok = alice["call_id"] == bob["call_id"]
detail = open(sys.argv[3], "a")
for who, c in (("alice", alice), ("bob", bob)):
    m = c["media"]
    line = (f"{who}: status {c['status']}, setup {c['setup_ms']} ms, RTP sent {m['packets_sent']}, received "
            f"{m['packets_received']}, lost {m['packets_lost']}, jitter {m['jitter_ms']} ms")
    print(line, file=detail)
    print(line, file=sys.stderr)
    ok = ok and c["status"] == 200 and m["packets_received"] >= 50 and m["packets_lost"] == 0
sys.exit(0 if ok else 1)
PY
}
alice_calls_bob() {
  "$call" --registration alice.json --duration 1.5 --json sip:bob@ims.test >alice-call.out &&
    wait_for 5 grep -q '"event":"call"' bob-ue.out && rtp_flowed alice-call.out
}
alice_messages_bob() {
  "$call" --registration alice.json --message "hello bob" --json sip:bob@ims.test >alice-message.out &&
    grep -q '"event":"message_sent".*"status":200' alice-message.out &&
    wait_for 3 grep -q '"event":"message".*"text":"hello bob"' bob-ue.out
}
start_license_server() {
  license_start drm 127.0.1.40:8080 subscribers.csv && license_admin drm publisher provider@ims.test &&
    license_admin drm credit bob@ims.test 10
}
provider_publishes() {
  head -c 4000000 /dev/urandom >film.bin
  "$build/tools/swarm-publish" film.bin --out pub --v1-only --content-id film-1 --license-server http://127.0.1.40:8080 \
    --impi provider@ims.test --subscribers subscribers.csv --license-policy pay-per-download --price 4 \
    --seed --listen 127.0.1.31:6881 --json >provider.out 2>provider.err &
  track $!
  wait_for 20 grep -q '"event":"seeding"' provider.out &&
    echo "content film-1, KID $(json_field provider.out published kid), key deposited at $(json_field provider.out published license_url)" >>"$STEP_DETAIL"
}
balance() {
  "$build/tools/license-server" admin show --state-dir drm --json | python3 -c '
import json, sys
print(next(e["balance"] for e in map(json.loads, sys.stdin) if e.get("impi") == "bob@ims.test"))'
}
bob_buys_licence() {
  local before after
  before=$(balance)
  "$build/tools/license-fetch" --kid "$(json_field provider.out published kid)" --server http://127.0.1.40:8080 \
    --impi bob@ims.test --subscribers subscribers.csv --output bob-licence.json --json >bob-licence.out &&
    after=$(balance) && [ "$after" -eq $((before - 4)) ] &&
    "$build/tools/license-server" cdr --state-dir drm --json >cdr.json &&
    grep -q '"impi":"bob@ims.test".*"policy":"pay-per-download","price":4' cdr.json &&
    echo "balance $before -> $after; CDR: $(grep -c . cdr.json) record(s)" >>"$STEP_DETAIL"
}
bob_fetches() {
  "$build/tools/swarm-fetch" "$(json_field provider.out published magnet)" --peer 127.0.1.31:6881 --listen 127.0.1.3:6881 \
    --license bob-licence.json --output bob-film.bin --json >bob-fetch.out && cmp film.bin bob-film.bin &&
    echo "$(stat -c %s bob-film.bin) bytes, KID $(json_field bob-fetch.out fetched kid)" >>"$STEP_DETAIL"
}
write_testbed_file() {
  cat >testbed.toml <<TOML
[dht.core]
bootstrap = ["127.0.1.11:4222", "127.0.1.12:4222", "127.0.1.13:4222"]
network-id = $((0x494d53))
bind = "127.0.1.90"

[sip.core]
uri = ["sip:127.0.1.11:5060", "sip:127.0.1.12:5060", "sip:127.0.1.13:5060"]
local = "127.0.1.90"
resolve = "sip:bob@ims.test"
overlay = ["127.0.1.13:4222"]
overlay-network-id = $((0x494d53))
overlay-key = "$TEST_TMP/ca/overlay.key"

[swarm.film]
source = "$(json_field provider.out published magnet)"
peer = ["127.0.1.31:6881"]
listen = "127.0.1.90:0"

[license.drm]
url = "http://127.0.1.40:8080/"
TOML
}
# probe_testbed EXPECTED_EXIT: overlay-probe all exits so; its table goes to the details.
probe_testbed() {
  local rc=0
  "$build/tools/overlay-probe" all --testbed testbed.toml >probe.out 2>probe.err || rc=$?
  sed 's/^/| /' probe.out >>"$STEP_DETAIL"
  [ "$rc" -eq "$1" ]
}
healthy() { write_testbed_file && probe_testbed 0; }
degraded() { probe_testbed 1; }
kill_node1() { kill -9 "$P2P_PID_node1" && { wait "$P2P_PID_node1" 2>/dev/null || true; }; }
alice_calls_again() {
  # Her registration names node1 as her route; she goes through node3 now.
  # From her registered address, the core routes her without a challenge.
  "$call" --impu sip:alice@ims.test --proxy sip:127.0.1.13 --local 127.0.1.2 --duration 1.5 --json sip:bob@ims.test \
    >alice-call2.out && wait_for 5 sh -c "[ \$(grep -c '\"event\":\"call\"' bob-ue.out) -ge 2 ]" && rtp_flowed alice-call2.out
}

echo "imsp2p testbed: a P2P IMS core, two UEs and a content swarm on loopback"
step "start 3 core nodes (CA, certificates, overlay on 127.0.1.11-13)" start_core
step "bob registers through node3 (IMS AKA); his UE answers calls" bob_registers
step "alice registers through node1 (IMS AKA)" alice_registers
step "alice calls bob: both sides report RTP, none lost" alice_calls_bob
step "alice sends bob a MESSAGE" alice_messages_bob
step "start the licence server; bob gets a balance of 10" start_license_server
step "the provider publishes encrypted content, deposits its key, seeds" provider_publishes
step "bob buys a licence (pay-per-download: balance debited, CDR)" bob_buys_licence
step "bob fetches it from the swarm and decrypts it byte-exact" bob_fetches
step "overlay-probe all: the testbed is healthy" healthy
step "node1 is killed (SIGKILL)" kill_node1
step "alice calls bob again through node3: the overlay lost nothing" alice_calls_again
step "overlay-probe all: the testbed is degraded (node1 down)" degraded

scenario_verdict
