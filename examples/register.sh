#!/usr/bin/env bash
# Registration with IMS AKA on a P2P IMS core: alice registers through node1,
# bob through node3, and each binding resolves in the overlay from any node.
# Hosts: 127.0.100.11-13 the core, .2 alice, .3 bob.
. "$(dirname "$0")/lib.sh"
subscribers
check "a 3-node core is up" core_up 127.0.100 3
check "alice registers through node1 (AKA)" register alice 127.0.100.2 127.0.100.11
check "bob registers through node3 (AKA)" register bob 127.0.100.3 127.0.100.13
jq -c '{impu, algorithm, expires, service_route}' alice.json bob.json
# Any node resolves any user: ask node2, which registered nobody.
for who in alice bob; do
  check "$who's binding resolves in the overlay" \
    overlay-probe sip sip:127.0.100.12:5060 --local 127.0.100.90 --resolve "sip:$who@ims.test" \
    --overlay 127.0.100.12:4222 --overlay-network-id $((0x494d53)) --overlay-key ca/overlay.key
done
check "alice deregisters" ims-register --subscribers subscribers.csv --impi alice@ims.test --usim-state alice.usim \
  --local 127.0.100.2 --proxy sip:127.0.100.11 --unregister
verdict
