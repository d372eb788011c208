#!/usr/bin/env bash
# ims-call's session extras through a real Kamailio (record-routing proxy
# with Digest): a call over TCP end to end (alice's requests on TCP to
# Kamailio, bob's contact registered with ;transport=tcp) with the QoS
# precondition flow (183, PRACK, UPDATE, 180, PRACK, 200, all record-routed);
# then a call over UDP sending a WAV file with an UPDATE mid-call and RTCP
# both ways (one-way delay estimates on both sides).
# Hosts: 127.0.143.1 Kamailio, .2 alice, .3 bob.
# Usage: ims-call-session-kamailio.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(dirname "$0")
. "$here/../lib/testlib.sh"
. "$here/../lib/kamailio.sh"
reg=$build/tools/ims-register
call=$build/tools/ims-call
. "$here/../lib/ims_call.sh"
alice_bob_kamailio main 127.0.143.1
alice=(--subscribers "$csv" --impi alice --impu sip:alice@ims.test --local 127.0.143.2)

# TCP both legs, QoS preconditions.
answerer bob 127.0.143.3:5070 --answer --precondition --max-calls 1
run "$reg" --subscribers "$csv" --impi bob --impu sip:bob@ims.test --proxy sip:127.0.143.1:5060 --local 127.0.143.3 \
  --contact "sip:bob@127.0.143.3:5070;transport=tcp"
expect_exit 0 "bob registers a TCP contact for his answerer"
run "$call" "${alice[@]}" --proxy "sip:127.0.143.1:5060;transport=tcp" --precondition --duration 1 --json sip:bob@ims.test
expect_exit 0 "alice calls bob over TCP through Kamailio, with preconditions (407 answered on TCP)"
call_check "$OUT_FILE" 'c["transport"] == "tcp" and c["precondition"]["met_ms"] is not None and c["prack_count"] == 2 and c["update_count"] == 1 and m["packets_received"] >= 30' \
  "alice: TCP, preconditions met, 2 PRACKs and an UPDATE through Kamailio, media"
ended bob || fail "bob's answerer did not exit"
call_check "$TEST_TMP/bob.out" 'c["transport"] == "tcp" and c["precondition"]["met_ms"] is not None and c["update_count"] == 1 and c["status"] == 200' \
  "bob: the INVITE reached his TCP contact, preconditions met"

# UDP, a WAV file, UPDATE mid-call, RTCP every 0.3 s.
python3 "$here/../lib/wav.py" "$TEST_TMP/alaw.wav" alaw 1
answerer bob2 127.0.143.3:5072 --answer --max-calls 1 --rtcp-interval 0.3
run "$reg" --subscribers "$csv" --impi bob --impu sip:bob@ims.test --proxy sip:127.0.143.1:5060 --local 127.0.143.3 \
  --contact sip:bob@127.0.143.3:5072
expect_exit 0 "bob registers a UDP contact"
run "$call" "${alice[@]}" --proxy sip:127.0.143.1:5060 --wav "$TEST_TMP/alaw.wav" --update --rtcp-interval 0.3 --duration 2.5 \
  --json sip:bob@ims.test
expect_exit 0 "alice calls bob over UDP through Kamailio with a WAV file and an UPDATE"
call_check "$OUT_FILE" 'c["transport"] == "udp" and c["update_count"] == 1 and m["mode"] == "wav" and m["packets_received"] >= 100 and m["one_way_delay_ms"] is not None' \
  "alice: UPDATE answered through Kamailio, WAV sent, a one-way delay estimate"
ended bob2 || fail "bob's second answerer did not exit"
call_check "$TEST_TMP/bob2.out" 'c["update_count"] == 1 and m["packets_received"] >= 100 and m["one_way_delay_ms"] is not None' \
  "bob: the UPDATE answered, a one-way delay estimate"
finish
