#!/usr/bin/env bash
# Instant messaging (pager-mode MESSAGE, RFC 3428) through the P2P IMS core:
# alice, registered through node1, writes to bob, registered through node3;
# bob's UE prints what it receives.
# Hosts: 127.0.102.11-13 the core, .2 alice, .3 bob.
. "$(dirname "$0")/lib.sh"
subscribers
check "a 3-node core is up" core_up 127.0.102 3
ims-call --listen 127.0.102.3:5070 --json >bob-ue.out 2>bob-ue.err &
check "bob's UE listens" wait_for 5 grep -q '"event":"listening"' bob-ue.out
check "bob registers that UE as his contact" register bob 127.0.102.3 127.0.102.13 --contact sip:bob@127.0.102.3:5070
check "alice registers" register alice 127.0.102.2 127.0.102.11
check "alice sends bob a MESSAGE" sh -c 'ims-call --registration alice.json --message "hello bob" --json sip:bob@ims.test >alice.out'
echo "alice got: $(event alice.out message_sent status)"
check "bob's UE received it" wait_for 3 grep -q '"event":"message".*"text":"hello bob"' bob-ue.out
jq -c 'select(.event == "message") | {from, text}' bob-ue.out
# An unknown user: the core answers 404, and ims-call exits 1.
rc=0
ims-call --registration alice.json --message "anyone?" sip:nobody@ims.test 2>nobody.err || rc=$?
check "a MESSAGE to an unknown user fails with exit 1 ($(tail -1 nobody.err))" test "$rc" -eq 1
verdict
