#!/usr/bin/env bash
# ims-call's media and session extras, ims-call against ims-call without a
# core: a WAV file as the RTP source (mu-law, checked byte for byte at a
# bare UAS; 16-bit PCM sent as A-law), RTCP reports both ways (rtcp-mux, and
# on the RTP port + 1) with the one-way delay estimate, UPDATE mid-call, the
# QoS precondition flow (183, PRACK, UPDATE, 180, 200) and its refusal by an
# answerer without --precondition (420), SIP over TCP (direct, and through
# p2p-node); and the bad inputs: unsupported WAV files and option mixes
# (exit 2).
# Hosts: 127.0.142.1 caller, .2 answerer; 127.0.144.1 p2p-node, .2 alice, .3 bob.
# Usage: ims-call-session.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(dirname "$0")
. "$here/../lib/testlib.sh"
. "$here/../lib/p2p_node.sh"
call=$build/tools/ims-call
reg=$build/tools/ims-register
. "$here/../lib/ims_call.sh"
alice=(--impu sip:alice@ims.test --local 127.0.142.1)
wav() { python3 "$here/../lib/wav.py" "$TEST_TMP/$1" "$2" "${3:-1}"; }

# A mu-law WAV, sent with PCMU to an echoing answerer; RTCP every 0.3 s.
wav ulaw.wav ulaw 0.5
answerer echo 127.0.142.2:5070 --answer --echo --max-calls 1 --rtcp-interval 0.3
run "$call" "${alice[@]}" --wav "$TEST_TMP/ulaw.wav" --codec pcmu --rtcp-interval 0.3 --duration 2.5 --json sip:bob@127.0.142.2:5070
expect_exit 0 "a call sending a mu-law WAV file"
call_check "$OUT_FILE" 'm["mode"] == "wav" and m["wav"].endswith("ulaw.wav") and m["packets_sent"] >= 100 and m["packets_received"] >= 100' \
  "the WAV (0.5 s, looped) went out for 2.5 s and came back"
call_check "$OUT_FILE" 'm["rtcp"]["mux"] and m["rtcp"]["reports_received"] >= 2 and m["rtcp"]["rtt_samples"] >= 1 and 0 <= m["one_way_delay_ms"] < 50 and abs(m["one_way_delay_ms"] * 2 - m["rtt_ms"]) < 0.002' \
  "caller: RTCP multiplexed, a one-way delay estimate (half the RTT)"
ended echo || fail "the echo answerer did not exit"
call_check "$TEST_TMP/echo.out" 'm["rtcp"]["mux"] and m["rtcp"]["reports_received"] >= 2 and m["one_way_delay_ms"] is not None and m["rtcp"]["peer_packets_lost"] == 0' \
  "answerer: RTCP received, its one-way delay estimate, the caller's report of no loss"

# The bytes on the wire: a mu-law WAV sent as PCMU to a bare UAS that keeps
# the payloads arrives unchanged, looped (G.711's two zeros, 0x7f and 0xff, are one).
python3 "$here/../lib/rtp_sink_uas.py" 127.0.142.2 5082 "$TEST_TMP/sink.bin" 20 &
track $!
wait_for 5 test -e "$TEST_TMP/sink.bin.ready" || fail "the RTP sink did not start"
run "$call" "${alice[@]}" --wav "$TEST_TMP/ulaw.wav" --duration 1 --json sip:bob@127.0.142.2:5082
expect_exit 0 "a mu-law WAV call to a bare UAS"
wait_for 5 test -s "$TEST_TMP/sink.bin" || true
python3 - "$TEST_TMP/ulaw.wav" "$TEST_TMP/sink.bin" <<'PY' && pass "the RTP payloads are the WAV's samples, in order, looped" || fail "the RTP payloads differ from the WAV"
import sys
data = open(sys.argv[1], "rb").read()
at = data.index(b"data")
wav = data[at + 8:at + 8 + int.from_bytes(data[at + 4:at + 8], "little")]
got = open(sys.argv[2], "rb").read()
same = lambda b: bytes(0xFF if x == 0x7F else x for x in b)
print(f"  {len(got)} bytes received, the WAV has {len(wav)}")
sys.exit(0 if len(got) >= 6000 and same(got) == same((wav * (len(got) // len(wav) + 1))[:len(got)]) else 1)
PY

# RTCP on the RTP port + 1 (the caller offers no rtcp-mux); the answerer sends
# a 16-bit PCM WAV as A-law.
wav pcm.wav pcm16 1
answerer pcm 127.0.142.2:5072 --answer --max-calls 1 --wav "$TEST_TMP/pcm.wav" --codec pcma --rtcp-interval 0.3
run "$call" "${alice[@]}" --no-rtcp-mux --rtcp-interval 0.3 --duration 2.5 --json sip:bob@127.0.142.2:5072
expect_exit 0 "a call to an answerer sending a 16-bit PCM WAV as A-law, RTCP not multiplexed"
call_check "$OUT_FILE" 'm["codec"] == "PCMA" and m["packets_received"] >= 100 and not m["rtcp"]["mux"] and int(m["rtcp"]["local"].rsplit(":", 1)[1]) == int(m["local"].rsplit(":", 1)[1]) + 1 and m["rtcp"]["reports_received"] >= 2 and m["one_way_delay_ms"] is not None' \
  "caller: RTCP on the RTP port + 1, a one-way delay estimate"
ended pcm || fail "the WAV answerer did not exit"
call_check "$TEST_TMP/pcm.out" 'm["mode"] == "wav" and not m["rtcp"]["mux"] and m["rtcp"]["reports_received"] >= 2 and m["packets_sent"] >= 100' \
  "answerer: WAV sent, RTCP received on its own port"

# UPDATE (RFC 3311) in the confirmed dialog: a new offer, answered 200 with
# SDP; the answerer sends no RTCP: the caller has no delay estimate (null).
answerer update 127.0.142.2:5074 --answer --max-calls 1 --rtcp-interval 0
run "$call" "${alice[@]}" --update --duration 1 --json sip:bob@127.0.142.2:5074
expect_exit 0 "a call with an UPDATE halfway"
call_check "$OUT_FILE" 'c["update_count"] == 1 and c["status"] == 200' "caller: one UPDATE answered 2xx"
call_check "$OUT_FILE" 'm["rtcp"]["reports_received"] == 0 and not m["rtcp"]["mux"] and m["one_way_delay_ms"] is None' \
  "caller: no RTCP from an answerer without it, no mux, no delay estimate (null)"
ended update || fail "the UPDATE answerer did not exit"
call_check "$TEST_TMP/update.out" 'c["update_count"] == 1 and m["rtcp"] is None' "answerer: one UPDATE answered; RTCP off (null)"

# QoS preconditions (RFC 3312) on both sides: 183 with SDP (reliable), PRACK,
# UPDATE (caller reserved), 200 (both reserved), then 180 (reliable), PRACK, 200.
answerer qos 127.0.142.2:5076 --answer --precondition --max-calls 1
run "$call" "${alice[@]}" --precondition --duration 1 --json sip:bob@127.0.142.2:5076
expect_exit 0 "a call with QoS preconditions"
call_check "$OUT_FILE" 'c["precondition"]["met_ms"] is not None and c["precondition"]["met_ms"] < c["setup_ms"] and c["prack_count"] == 2 and c["update_count"] == 1 and m["packets_received"] >= 30' \
  "caller: preconditions met before the 200, 2 PRACKs, 1 UPDATE, media"
ended qos || fail "the precondition answerer did not exit"
call_check "$TEST_TMP/qos.out" 'c["precondition"]["met_ms"] is not None and c["prack_count"] == 2 and c["update_count"] == 1 and c["status"] == 200' \
  "answerer: alerted after the UPDATE, answered"
answerer plain 127.0.142.2:5078 --answer --max-calls 1
run "$call" "${alice[@]}" --precondition --json sip:bob@127.0.142.2:5078
expect_exit 1 "preconditions required by a caller, unknown to the answerer"
call_check "$OUT_FILE" 'c["status"] == 420' "420 Bad Extension"
kill "$PID_plain" 2>/dev/null || true

# SIP over TCP, caller to answerer (which listens on TCP beside UDP).
answerer tcp 127.0.142.2:5080 --answer --max-calls 1
run "$call" "${alice[@]}" --duration 0.5 --json "sip:bob@127.0.142.2:5080;transport=tcp"
expect_exit 0 "a call over TCP"
call_check "$OUT_FILE" 'c["transport"] == "tcp" and c["status"] == 200' "caller: the INVITE went over TCP"
ended tcp || fail "the TCP answerer did not exit"
call_check "$TEST_TMP/tcp.out" 'c["transport"] == "tcp"' "answerer: the INVITE came over TCP"

# SIP over TCP through a p2p-node core serving UDP and TCP: bob's contact
# and alice's registration on TCP, then the call.
csv=$TEST_TMP/subscribers.csv
printf 'impi,impus,auth,password,k,op,opc,amf,sqn\nalice@ims.test,sip:alice@ims.test,md5,alice-pw,,,,,\nbob@ims.test,sip:bob@ims.test,md5,bob-pw,,,,,\n' >"$csv"
p2p_node_start core 127.0.144.1 5060 "$csv" --transport both
answerer tcpcore 127.0.144.3:5070 --answer --max-calls 1
run "$reg" --subscribers "$csv" --impi bob@ims.test --proxy "sip:127.0.144.1:5060;transport=tcp" --local 127.0.144.3 \
  --contact "sip:bob@127.0.144.3:5070;transport=tcp"
expect_exit 0 "bob registers his TCP contact with p2p-node over TCP"
run "$reg" --subscribers "$csv" --impi alice@ims.test --proxy "sip:127.0.144.1:5060;transport=tcp" --local 127.0.144.2 --json
expect_exit 0 "alice registers with p2p-node over TCP"
cp "$OUT_FILE" "$TEST_TMP/alice.json"
run "$call" --registration "$TEST_TMP/alice.json" --subscribers "$csv" --duration 1 --json sip:bob@ims.test
expect_exit 0 "alice calls bob over TCP through p2p-node (--registration)"
call_check "$OUT_FILE" 'c["transport"] == "tcp" and c["status"] == 200 and m["packets_received"] >= 40' "alice: TCP, answered, media"
ended tcpcore || fail "bob's TCP answerer did not exit"
call_check "$TEST_TMP/tcpcore.out" 'c["transport"] == "tcp" and c["status"] == 200' "bob: the INVITE came over TCP from the core"
# The precondition flow through the core: PRACK and UPDATE are in-dialog
# requests the node forwards along the Record-Route (nta as a proxy answers
# no PRACK itself).
answerer qoscore 127.0.144.3:5070 --answer --precondition --max-calls 1
run "$call" --registration "$TEST_TMP/alice.json" --subscribers "$csv" --precondition --duration 1 --json sip:bob@ims.test
expect_exit 0 "alice calls bob with QoS preconditions through p2p-node"
call_check "$OUT_FILE" 'c["status"] == 200 and c["prack_count"] == 2 and c["update_count"] == 1 and c["precondition"]["met_ms"] is not None' \
  "alice: 2 PRACKs and an UPDATE through the core, preconditions met"
ended qoscore || fail "bob's precondition answerer did not exit"

# Bad input: each a one-line error and exit 2.
printf 'not audio at all\n' >"$TEST_TMP/text.wav"
wav 44k.wav pcm16-44k 0.1
wav stereo.wav stereo 0.1
wav u8.wav u8 0.1
wav float.wav float 0.1
bad() { # bad WHAT REGEX OPTIONS...
  local what=$1 regex=$2
  shift 2
  run "$call" "${alice[@]}" "$@" sip:bob@127.0.142.2:5099
  expect_exit 2 "$what"
  expect_stderr_line "$regex" "$what: the error says why"
}
bad "a missing WAV file" "--wav .*/missing.wav: no such file" --wav "$TEST_TMP/missing.wav"
bad "a text file as WAV" "text.wav: not a readable audio file" --wav "$TEST_TMP/text.wav"
bad "a 44.1 kHz WAV" "44k.wav: 44100 Hz: ims-call sends 8000 Hz audio" --wav "$TEST_TMP/44k.wav"
bad "a stereo WAV" "stereo.wav: 2 channels: ims-call sends mono" --wav "$TEST_TMP/stereo.wav"
bad "an 8-bit PCM WAV" "u8.wav: Unsigned 8 bit PCM samples: ims-call sends WAV files of 16-bit PCM, mu-law or A-law" --wav "$TEST_TMP/u8.wav"
bad "a float WAV" "float.wav: 32 bit float samples" --wav "$TEST_TMP/float.wav"
bad "--wav with --media none" "--wav sends a WAV file over RTP: not with --media none" --wav "$TEST_TMP/ulaw.wav" --media none
bad "--wav in load mode" "--wav needs a call with media" --wav "$TEST_TMP/ulaw.wav" --count 2
bad "--precondition with --message" "--update and --precondition shape one call" --precondition --message hi
bad "a tiny --rtcp-interval" "--rtcp-interval 0.05: give 0 \(no RTCP\) or at least 0.1 s" --rtcp-interval 0.05
bad "an SCTP proxy" "transport=sctp \(ims-call speaks SIP over UDP, TCP and TLS\)" --proxy "sip:127.0.142.9;transport=sctp"
run "$call" --listen 127.0.142.2:5098 --echo --wav "$TEST_TMP/ulaw.wav"
expect_exit 2 "--wav with --echo"
expect_stderr_line "--wav and --echo exclude each other" "--wav with --echo: the error says why"
run "$call" --listen 127.0.142.2:5098 --update
expect_exit 2 "--update on an answerer"
expect_stderr_line "--update makes the caller send an UPDATE" "--update on an answerer: the error says why"
finish
