#!/usr/bin/env bash
# ims-call with a third-party SIP UA, baresip (headless, Debian's
# baresip-core), as the far end in both directions, direct (no core):
# ims-call calls baresip (auto-answer), then baresip, driven over its
# ctrl_tcp socket, calls an `ims-call --listen --answer`. ims-call reads
# baresip's RTCP (not multiplexed: baresip answers no rtcp-mux). baresip's audio
# device is aubridge's "null" pair, which sends back what it receives.
# Hosts: 127.0.23.2 ims-call, .3 baresip.
# Usage: ims-call-baresip.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
call=$build/tools/ims-call
if ! command -v baresip >/dev/null; then
  echo "SKIP: baresip is not installed (scripts/setup installs baresip-core)"
  exit 0
fi

# baresip_start: bob's UA on 127.0.23.3:5060, auto-answering, control on :4444.
baresip_start() {
  local dir=$TEST_TMP/baresip
  mkdir -p "$dir"
  cat >"$dir/config" <<CFG
sip_listen		127.0.23.3:5060
net_interface		127.0.23.3
audio_player		aubridge,null
audio_source		aubridge,null
audio_alert		aubridge,null
rtp_ports		21000-21100
module_path		/usr/lib/baresip/modules
module			g711.so
module			aubridge.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.23.3:4444
CFG
  echo '<sip:bob@127.0.23.3>;regint=0;answermode=auto' >"$dir/accounts"
  baresip -f "$dir" >"$dir/log" 2>&1 </dev/null &
  BARESIP_PID=$!
  track $BARESIP_PID
  wait_for 5 sh -c "ss -Hltn | grep -q '127.0.23.3:4444 '" || fail "baresip did not start"
}
# baresip_command COMMAND [PARAMS]: one netstring-framed JSON command to ctrl_tcp.
baresip_command() {
  python3 - "$1" "${2:-}" <<'PY'
import json, socket, sys, time
s = socket.create_connection(("127.0.23.3", 4444), timeout=3)
body = json.dumps({"command": sys.argv[1], "params": sys.argv[2], "token": "imsp2p"}).encode()
s.sendall(str(len(body)).encode() + b":" + body + b",")
time.sleep(0.2)
s.close()
PY
}
baresip_start

# ims-call → baresip, held 6 s for baresip's RTCP (every 5 s or so).
run "$call" --impu sip:alice@ims.test --local 127.0.23.2 --duration 6 --rtcp-interval 1 --json sip:bob@127.0.23.3:5060
expect_exit 0 "ims-call calls baresip, baresip answers"
python3 - "$OUT_FILE" <<'PY' && pass "RTCP with baresip: its reports read, a one-way delay estimate" || fail "RTCP with baresip"
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])][-1]["media"]
r = m["rtcp"]
print(f"  rtcp: mux {r['mux']}, sent {r['reports_sent']}, received {r['reports_received']}, bad {r['bad_reports']}, rtt {m['rtt_ms']} ms, one-way {m['one_way_delay_ms']} ms, peer lost {r['peer_packets_lost']}")
sys.exit(0 if r["reports_received"] >= 1 and r["bad_reports"] == 0 and m["one_way_delay_ms"] is not None else 1)
PY
python3 - "$OUT_FILE" <<'PY' && pass "RTP both ways with baresip (what it got, it sent back)" || fail "RTP with baresip"
import json, sys
call = [json.loads(l) for l in open(sys.argv[1])][-1]
m = call["media"]
print(f"  setup {call['setup_ms']} ms, {m['codec']}, sent {m['packets_sent']}, received {m['packets_received']}, lost {m['packets_lost']}, jitter {m['jitter_ms']} ms")
sys.exit(0 if call["status"] == 200 and m["packets_received"] >= 80 and m["packets_lost"] == 0 else 1)
PY
expect_match "$TEST_TMP/baresip/log" "incoming rtp for 'audio' established, receiving from 127.0.23.2" "baresip received ims-call's RTP"

# baresip → ims-call.
"$call" --listen 127.0.23.2:5060 --answer --max-calls 1 --json >"$TEST_TMP/alice.out" 2>"$TEST_TMP/alice.err" &
alice_pid=$!
track $alice_pid
wait_for 5 grep -q '"event":"listening"' "$TEST_TMP/alice.out" || fail "the answerer did not start"
baresip_command dial sip:alice@127.0.23.2:5060
wait_for 5 grep -q "Call established: sip:alice@127.0.23.2" "$TEST_TMP/baresip/log" &&
  pass "baresip's call to ims-call is established" || fail "baresip's call was not established"
sleep 2
baresip_command hangup
for _ in $(seq 50); do kill -0 $alice_pid 2>/dev/null || break; sleep 0.1; done
expect_match "$TEST_TMP/alice.out" '"event":"call".*"direction":"incoming".*"ended_by":"remote".*"status":200' \
  "ims-call answered baresip's call and saw its BYE"
python3 - "$TEST_TMP/alice.out" <<'PY' && pass "ims-call sent RTP to baresip's address" || fail "no RTP sent to baresip"
import json, sys
call = [json.loads(l) for l in open(sys.argv[1]) if '"event":"call"' in l][-1]
m = call["media"]
print(f"  answered: {m['codec']}, remote {m['remote']}, sent {m['packets_sent']}, received {m['packets_received']}")
sys.exit(0 if m["packets_sent"] >= 50 and m["remote"].startswith("127.0.23.3:") else 1)
PY
[ "$(grep -c "incoming rtp for 'audio' established" "$TEST_TMP/baresip/log")" -ge 2 ] &&
  pass "baresip received ims-call's RTP as the caller too" || fail "baresip did not receive RTP as the caller"
baresip_command quit
finish
