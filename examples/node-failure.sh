#!/usr/bin/env bash
# No single point of failure: alice registered through node1; node1 is
# killed (SIGKILL), alice calls bob through node3 and the call goes through,
# because the bindings live in the overlay; node1 restarts from its state
# directory, rejoins with the same node id and serves again.
# Hosts: 127.0.104.11-13 the core, .2 alice, .3 bob.
. "$(dirname "$0")/lib.sh"
subscribers
check "a 3-node core is up" core_up 127.0.104 3
ims-call --listen 127.0.104.3:5070 --answer --media none --json >bob-ue.out 2>bob-ue.err &
check "bob's UE listens" wait_for 5 grep -q '"event":"listening"' bob-ue.out
check "bob registers through node2" register bob 127.0.104.3 127.0.104.12 --contact sip:bob@127.0.104.3:5070
check "alice registers through node1" register alice 127.0.104.2 127.0.104.11
id_before=$(event node1.out joined node_id)

# A node saves the peers it knows in its state directory (first after 5 s).
check "node1 has saved its peers" wait_for 10 test -s node1/dht/nodes
kill_node 1
# alice's Service-Route names node1: she sends through node3 instead. From
# her registered address the core knows her without a new challenge.
check "alice calls bob through node3" ims-call --impu sip:alice@ims.test --proxy sip:127.0.104.13 --local 127.0.104.2 \
  --duration 0.5 --media none sip:bob@ims.test

check "node1 restarts from its state directory" node_start 127.0.104 1 3
id_after=$(event node1.out joined node_id)
check "node1 rejoined with the same node id ($id_after)" test -n "$id_after" -a "$id_before" = "$id_after"
check "node1 routes to bob again" wait_for 10 ims-call --impu sip:alice@ims.test --proxy sip:127.0.104.11 \
  --local 127.0.104.2 --duration 0.5 --media none sip:bob@ims.test
verdict
