#!/usr/bin/env bash
# Registrations expire correctly when the wall clock jumps. Two core nodes
# run under libfaketime, sharing one clock offset file, as nodes on one host
# share the system clock (the monotonic clock is left alone, as a real step
# leaves it). A binding's end is a time of day signed into its record, and,
# for the nodes of the writer's host, a point of the monotonic clock
# (p2p-node(1), Clock steps):
# - forward step: a binding whose end the step passed stops routing at once,
#   on the node that cached it too; a binding with time left still routes;
#   one registered after the step lasts its full lifetime, then ends;
# - backward step: no binding is dropped before its end, and none outlives
#   it (written on this host, a binding ends by the monotonic clock); one
#   registered after the step ends after its lifetime; a refresh and a
#   deregistration after the step take effect though the clock now reads
#   earlier than the records';
# - SIP timers do not follow a step: a transaction times out on time though
#   the clock stepped back meanwhile.
# Skipped (exit 77) without libfaketime.
# Hosts: 127.0.214.1-2 nodes (SIP 5060, DHT 4222), .3 the UE, .10 the users'
# contact (5070), .11 the resolver, .12 a contact that never answers.
# Usage: clock-jump.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
libfaketime=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
if [ -z "$libfaketime" ]; then
  echo "SKIP: libfaketime is not installed (scripts/setup installs it)"
  exit 77
fi
lib=$(cd "$(dirname "$0")/../lib" && pwd)
reg=$build/tools/ims-register
cd "$TEST_TMP"
users_csv users.csv 8

# The nodes' clock: real time plus the offset in clock.rc, read at most once a second.
echo "+0" >clock.rc
step() {
  echo "$1" >clock.rc
  sleep 1.5 # libfaketime's cache of the file
}
overlay_ca n1 n2
(
  export LD_PRELOAD=$libfaketime FAKETIME_TIMESTAMP_FILE=$TEST_TMP/clock.rc FAKETIME_CACHE_DURATION=1 \
    FAKETIME_DONT_FAKE_MONOTONIC=1
  overlay_node_start n1 127.0.214.1 users.csv -- --transaction-timeout 4
  overlay_node_start n2 127.0.214.2 users.csv 127.0.214.1:4222 -- --transaction-timeout 4
  echo "$P2P_PID_n1 $P2P_PID_n2" >node.pids
) || fail "the nodes did not start under libfaketime"
read -r P2P_PID_n1 P2P_PID_n2 <node.pids
track "$P2P_PID_n1"
track "$P2P_PID_n2"

# register USER EXPIRES [NODE]: a registration with the resolver's UAS as contact.
register() {
  "$reg" --subscribers users.csv --impi "$1@ims.test" --proxy "sip:${3:-127.0.214.1}" --local 127.0.214.3 \
    --contact "sip:$1@127.0.214.10:5070" --expires "$2" --timeout 2 "${@:4}" >/dev/null
}
# routes USER NODE: a MESSAGE through NODE reaches USER's contact.
routes() {
  echo "$1" >one.user
  python3 "$lib/sip_resolve.py" 127.0.214.11 127.0.214.10:5070 "$2:5060" one.user --deadline "${3:-3}" >/dev/null
}
# gone USER NODE: NODE answers 480 (no binding) to a MESSAGE for USER.
gone() {
  "$lib/sip_send.py" 127.0.214.11 "$2:5060" MESSAGE "sip:$1@ims.test" sip:probe@elsewhere.test | grep -q "^SIP/2.0 480"
}
wait_for 30 register u6 600 && pass "the core registers (clock offset +0)" || fail "the core never registered u6"
wait_for 10 routes u6 127.0.214.2 1 && pass "u6 routes through n2" || fail "u6 does not route through n2"

# --- forward step of 120 s ---
register u1 60 && register u2 600 && pass "u1 registered for 60 s, u2 for 600 s" || fail "u1/u2 did not register"
routes u1 127.0.214.2 && routes u2 127.0.214.2 && pass "both route through n2 (n2 caches them)" || fail "u1/u2 do not route"
step +120
wait_for 5 gone u1 127.0.214.2 && pass "forward step past u1's end: n2 (which cached it) answers 480" ||
  fail "u1 still routes through n2 after its end"
gone u1 127.0.214.1 && pass "and n1 answers 480" || fail "u1 still routes through n1"
routes u2 127.0.214.2 && routes u2 127.0.214.1 && pass "u2, with 480 s left, still routes through both nodes" ||
  fail "the forward step dropped u2, which had time left"
register u3 6 && pass "u3 registers for 6 s after the step" || fail "u3 did not register after the step"
routes u3 127.0.214.2 && pass "u3 routes" || fail "u3 does not route"
sleep 7
wait_for 3 gone u3 127.0.214.2 && pass "u3 ends after its 6 s" || fail "u3 still routes 7 s after a 6 s registration"

# --- backward step of 300 s (from +120 to -180) ---
register u4 30 && register u8 8 && pass "u4 registered for 30 s, u8 for 8 s" || fail "u4/u8 did not register"
routes u4 127.0.214.2 && routes u8 127.0.214.2 || fail "u4/u8 do not route"
step -180
routes u2 127.0.214.2 && routes u2 127.0.214.1 && routes u4 127.0.214.2 &&
  pass "backward step: no binding dropped (u2, u4 route)" || fail "the backward step dropped a binding"
register u5 6 && pass "u5 registers for 6 s after the step" || fail "u5 did not register after the backward step"
routes u5 127.0.214.2 && pass "u5 routes" || fail "u5 does not route"
sleep 7
wait_for 3 gone u5 127.0.214.2 && pass "u5 ends after its 6 s" || fail "u5 still routes 7 s after a 6 s registration"
# u8's record says it ends 308 s from the stepped clock; written on this
# host, it ends by the monotonic clock: 8 s after it was registered.
wait_for 3 gone u8 127.0.214.2 && gone u8 127.0.214.1 &&
  pass "u8, registered for 8 s before the step, ended as due on both nodes (n2 had it in memory)" ||
  fail "u8 outlived its 8 s by the backward step"
# u4's record reads 330 s ahead of the stepped clock: a refresh for 6 s
# through the other node replaces it, and it ends 6 s later.
register u4 6 127.0.214.2 && pass "u4 refreshed for 6 s through n2" || fail "u4's refresh failed"
sleep 7
wait_for 3 gone u4 127.0.214.1 && pass "u4's refresh took effect: it ends 6 s later" || fail "u4 outlived its refresh"
register u2 600 127.0.214.2 --unregister && pass "u2 deregisters through n2" || fail "u2's deregistration failed"
wait_for 3 gone u2 127.0.214.1 && pass "u2's deregistration took effect on n1" || fail "u2 still routes after its deregistration"
# SIP timers ignore steps: an INVITE to a contact that never answers gets
# its 408 after the 4 s transaction timeout though the clock steps back
# 600 s meanwhile (sofia-sip's timers followed the wall clock: no 408 for 600 s).
blackhole 127.0.214.12 5070
"$reg" --subscribers users.csv --impi u7@ims.test --proxy sip:127.0.214.1 --local 127.0.214.3 \
  --contact sip:u7@127.0.214.12:5070 --expires 600 --timeout 2 >/dev/null || fail "u7 did not register"
(sleep 0.5 && echo "-780" >clock.rc) &
python3 - >invite.out <<'PY'
import socket, time, uuid
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.214.11", 0))
port = s.getsockname()[1]
s.sendto((f"INVITE sip:u7@ims.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.214.11:{port};branch=z9hG4bK-{uuid.uuid4().hex[:12]}\r\n"
          f"Max-Forwards: 70\r\nFrom: <sip:probe@elsewhere.test>;tag=1\r\nTo: <sip:u7@ims.test>\r\n"
          f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 INVITE\r\nContact: <sip:probe@127.0.214.11:{port}>\r\n"
          f"Content-Length: 0\r\n\r\n").encode(), ("127.0.214.1", 5060))
started = time.monotonic()
s.settimeout(30)
try:
    while True:
        answer = s.recv(65535).decode(errors="replace")
        if not answer.startswith("SIP/2.0 1"):
            print(answer.split()[1], round(time.monotonic() - started, 1))
            break
except socket.timeout:
    print("none", 30)
PY
read -r code took <invite.out
[ "$code" = 408 ] && [ "${took%.*}" -ge 3 ] && [ "${took%.*}" -lt 10 ] &&
  pass "clock stepped back 600 s mid-transaction: the 408 came after ${took} s" ||
  fail "clock stepped back mid-transaction: answer $code after $took s, expected 408 after 4 s"
for n in 1 2; do
  grep -q '"event":"dropped_forged_value"' "p2p-n$n/stdout" && fail "n$n dropped a value as forged" || true
done
kill -0 "$P2P_PID_n1" && kill -0 "$P2P_PID_n2" && pass "both nodes run after the steps" || fail "a node died"
finish
