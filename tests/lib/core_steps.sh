# The IMS core part of the flagship scenario, shared by testbed.sh (hosts on
# loopback) and netns.sh (hosts in network namespaces): a three-node
# p2p-node core with its CA, alice and bob registering with IMS AKA, a call
# with media, a MESSAGE, a core node killed and the call placed again.
# Needs testlib.sh sourced first, $build set and the working directory in
# $TEST_TMP. Every command runs on its host through `on`/`spawn` (testlib.sh).
. "$(dirname "${BASH_SOURCE[0]}")/scenario.sh"
. "$(dirname "${BASH_SOURCE[0]}")/p2p_node.sh"
. "$(dirname "${BASH_SOURCE[0]}")/overlay.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
# Packets an RTP stream may lose (netns.sh raises it when netem drops packets).
RTP_LOSS_ALLOWED=${RTP_LOSS_ALLOWED:-0}

# core_hosts NET: the hosts' addresses in NET (e.g. 127.0.1): the core
# nodes on NET.11-13, alice's UE on NET.2, bob's on NET.3, the operator's
# probe on NET.90.
core_hosts() {
  ip_node1=$1.11 ip_node2=$1.12 ip_node3=$1.13 ip_alice=$1.2 ip_bob=$1.3 ip_probe=$1.90
}

# core_subscribers: the HSS's subscriber CSV (alice and bob with AKA keys)
# in subscribers.csv.
core_subscribers() {
  cat >subscribers.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
bob@ims.test,sip:bob@ims.test;tel:+15550101,aka,,fec86ba6eb707ed08905757b1bb44b8f,dbc59adcb6f9a0ef735477b7fadf8374,,8000,000000000040
CSV
}
ue() { echo --subscribers subscribers.csv --impi "$1@ims.test" --usim-state "$1.usim" --local "$2" --timeout "$TOOL_TIMEOUT"; }

start_core() {
  overlay_ca node1 node2 node3 &&
    overlay_node_start node1 "$ip_node1" subscribers.csv -- --ind 1 &&
    overlay_node_start node2 "$ip_node2" subscribers.csv "$ip_node1:4222" -- --ind 2 &&
    overlay_node_start node3 "$ip_node3" subscribers.csv "$ip_node1:4222" "$ip_node2:4222" -- --ind 3
}
bob_registers() {
  spawn "$ip_bob" "$call" --listen "$ip_bob:5070" --answer --answer-delay 0.2 --json >bob-ue.out 2>bob-ue.err
  wait_for 5 grep -q '"event":"listening"' bob-ue.out || return 1
  # The overlay settles within seconds: the first registration is retried until it does.
  wait_for 15 on "$ip_bob" sh -c "\"$reg\" $(ue bob "$ip_bob") --proxy sip:$ip_node3 --contact sip:bob@$ip_bob:5070 --json >bob.json" &&
    grep -q '"algorithm":"AKAv1-MD5"' bob.json
}
alice_registers() {
  # shellcheck disable=SC2046
  on "$ip_alice" "$reg" $(ue alice "$ip_alice") --proxy "sip:$ip_node1" --json >alice.json &&
    grep -q '"algorithm":"AKAv1-MD5"' alice.json
}
# rtp_flowed ALICE_OUT: the last call in alice's output and in bob's was
# answered, is the same call, and carried RTP both ways, losing at most
# $RTP_LOSS_ALLOWED packets.
rtp_flowed() {
  python3 - "$1" bob-ue.out "$STEP_DETAIL" "$RTP_LOSS_ALLOWED" <<'PY'
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
    ok = ok and c["status"] == 200 and m["packets_received"] >= 50 and m["packets_lost"] <= int(sys.argv[4])
sys.exit(0 if ok else 1)
PY
}
alice_calls_bob() {
  on "$ip_alice" "$call" --registration alice.json --timeout "$TOOL_TIMEOUT" --duration 1.5 --json sip:bob@ims.test >alice-call.out &&
    wait_for 5 grep -q '"event":"call"' bob-ue.out && rtp_flowed alice-call.out
}
alice_messages_bob() {
  on "$ip_alice" "$call" --registration alice.json --timeout "$TOOL_TIMEOUT" --message "hello bob" --json sip:bob@ims.test >alice-message.out &&
    grep -q '"event":"message_sent".*"status":200' alice-message.out &&
    wait_for 3 grep -q '"event":"message".*"text":"hello bob"' bob-ue.out
}
kill_node1() { kill -9 "$P2P_PID_node1" && { wait "$P2P_PID_node1" 2>/dev/null || true; }; }
alice_calls_again() {
  # Her registration names node1 as her route; she goes through node3 now.
  # From her registered address, the core routes her without a challenge.
  on "$ip_alice" "$call" --impu sip:alice@ims.test --proxy "sip:$ip_node3" --local "$ip_alice" --timeout "$TOOL_TIMEOUT" --duration 1.5 --json \
    sip:bob@ims.test >alice-call2.out &&
    wait_for 5 sh -c "[ \$(grep -c '\"event\":\"call\"' bob-ue.out) -ge 2 ]" && rtp_flowed alice-call2.out || {
    # What each side saw, for the verdict's details.
    echo "alice: $(tail -c 600 alice-call2.out)"
    echo "bob: $(grep -c '"event":"call"' bob-ue.out) calls; $(tail -c 400 bob-ue.out)"
    return 1
  } >&2
}

# core_testbed_sections: the core's sections of a testbed file for
# overlay-probe all (the overlay, and the nodes with bob's binding).
core_testbed_sections() {
  cat <<TOML
[dht.core]
bootstrap = ["$ip_node1:4222", "$ip_node2:4222", "$ip_node3:4222"]
network-id = $((0x494d53))
bind = "$ip_probe"

[sip.core]
uri = ["sip:$ip_node1:5060", "sip:$ip_node2:5060", "sip:$ip_node3:5060"]
local = "$ip_probe"
resolve = "sip:bob@ims.test"
overlay = ["$ip_node3:4222"]
overlay-network-id = $((0x494d53))
overlay-key = "$TEST_TMP/ca/overlay.key"
TOML
}
# probe_testbed EXPECTED_EXIT: overlay-probe all, from the probe's host,
# exits so; its table goes to the details.
probe_testbed() {
  local rc=0
  on "$ip_probe" "$build/tools/overlay-probe" all --testbed testbed.toml >probe.out 2>probe.err || rc=$?
  sed 's/^/| /' probe.out >>"$STEP_DETAIL"
  [ "$rc" -eq "$1" ] || { echo "overlay-probe exited $rc:" && cat probe.out probe.err; } >&2
  [ "$rc" -eq "$1" ]
}

# core_steps_calls: the steps up to the MESSAGE, one verdict line each.
core_steps_calls() {
  step "start 3 core nodes (CA, certificates, overlay on $ip_node1-${ip_node3##*.})" start_core
  step "bob registers through node3 (IMS AKA); his UE answers calls" bob_registers
  step "alice registers through node1 (IMS AKA)" alice_registers
  step "alice calls bob: both sides report RTP, $(lost_allowed)" alice_calls_bob
  step "alice sends bob a MESSAGE" alice_messages_bob
}
# core_steps_failover: node1 killed, and the call placed again.
core_steps_failover() {
  step "node1 is killed (SIGKILL)" kill_node1
  step "alice calls bob again through node3: the overlay lost nothing" alice_calls_again
}
lost_allowed() {
  if [ "$RTP_LOSS_ALLOWED" -eq 0 ]; then echo "none lost"; else echo "at most $RTP_LOSS_ALLOWED lost"; fi
}
