#!/usr/bin/env bash
# A call with media through the P2P IMS core: bob's UE answers on the contact
# he registered; alice calls him; both sides report their RTP statistics.
# Hosts: 127.0.101.11-13 the core, .2 alice, .3 bob.
. "$(dirname "$0")/lib.sh"
subscribers
check "a 3-node core is up" core_up 127.0.101 3
# bob's UE: answers after 0.2 s, one JSON line per call.
ims-call --listen 127.0.101.3:5070 --answer --answer-delay 0.2 --json >bob-ue.out 2>bob-ue.err &
check "bob's UE listens" wait_for 5 grep -q '"event":"listening"' bob-ue.out
check "bob registers that UE as his contact" register bob 127.0.101.3 127.0.101.13 --contact sip:bob@127.0.101.3:5070
check "alice registers" register alice 127.0.101.2 127.0.101.11
# The registration JSON carries alice's identity, address and Service-Route.
check "alice calls bob for 2 s" sh -c 'ims-call --registration alice.json --duration 2 --json sip:bob@ims.test >alice-call.out'
check "bob's side reports the call" wait_for 5 grep -q '"event":"call"' bob-ue.out
for side in alice-call.out bob-ue.out; do
  jq -r 'select(.event == "call") | "\(input_filename): status \(.status), setup \(.setup_ms) ms, RTP sent \(.media.packets_sent),"
    + " received \(.media.packets_received), lost \(.media.packets_lost), jitter \(.media.jitter_ms) ms"' "$side"
done
lost=$(event alice-call.out call media.packets_lost)
received=$(event bob-ue.out call media.packets_received)
check "media flowed (bob received $received packets, alice lost $lost)" test "$received" -ge 50 -a "$lost" -eq 0
verdict
