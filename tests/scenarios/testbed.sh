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
. "$(dirname "$0")/../lib/license.sh"
. "$(dirname "$0")/../lib/core_steps.sh"
cd "$TEST_TMP"
core_hosts 127.0.1

core_subscribers
echo "provider@ims.test,sip:provider@ims.test,md5,provider-secret,,,,," >>subscribers.csv

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
  "$build/tools/swarm-fetch" "$(json_field provider.out published magnet)" --peer 127.0.1.31:6881 --listen "$ip_bob:6881" \
    --license bob-licence.json --output bob-film.bin --json >bob-fetch.out && cmp film.bin bob-film.bin &&
    echo "$(stat -c %s bob-film.bin) bytes, KID $(json_field bob-fetch.out fetched kid)" >>"$STEP_DETAIL"
}
write_testbed_file() {
  core_testbed_sections >testbed.toml
  cat >>testbed.toml <<TOML

[swarm.film]
source = "$(json_field provider.out published magnet)"
peer = ["127.0.1.31:6881"]
listen = "$ip_probe:0"

[license.drm]
url = "http://127.0.1.40:8080/"
TOML
}
healthy() { write_testbed_file && probe_testbed 0; }

echo "imsp2p testbed: a P2P IMS core, two UEs and a content swarm on loopback"
core_steps_calls
step "start the licence server; bob gets a balance of 10" start_license_server
step "the provider publishes encrypted content, deposits its key, seeds" provider_publishes
step "bob buys a licence (pay-per-download: balance debited, CDR)" bob_buys_licence
step "bob fetches it from the swarm and decrypts it byte-exact" bob_fetches
step "overlay-probe all: the testbed is healthy" healthy
core_steps_failover
step "overlay-probe all: the testbed is degraded (node1 down)" probe_testbed 1

scenario_verdict
