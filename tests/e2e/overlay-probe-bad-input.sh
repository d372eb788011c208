#!/usr/bin/env bash
# overlay-probe against bad input and faulty peers: each gets a precise
# message and its documented exit status, within --timeout, never a hang.
# Hosts: 127.0.0.86 a UDP peer that answers garbage (port 25090), a silent
# one (25091), and a closed port (25092); 127.0.0.80 the probe.
# Usage: overlay-probe-bad-input.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
probe=$build/tools/overlay-probe

# Usage errors: exit 2 with one line on stderr; with --nagios, UNKNOWN (3) on stdout.
run "$probe"
expect_exit 2 "no probe given"
expect_stderr_line 'give a probe: dht, sip, swarm, license, core or all' "no probe: says what to give"
run "$probe" dht --bootstrap 127.0.0.86:25090
expect_exit 2 "dht without --network-id"
expect_stderr_line 'network-id' "missing network id named"
run "$probe" dht --bootstrap 127.0.0.86 --network-id 7
expect_exit 2 "a bootstrap without a port"
expect_stderr_line "'127.0.0.86' is not HOST:PORT" "bad bootstrap named"
run "$probe" dht --bootstrap 127.0.0.86:25090 --network-id 7 --bind 300.1.2.3
expect_exit 2 "a bad --bind"
run "$probe" --warning rtt=100 dht --bootstrap 127.0.0.86:25090 --network-id 7
expect_exit 2 "a threshold on an unknown metric"
expect_stderr_line "no metric 'rtt'.*rtt_ms" "unknown metric named with the known ones"
run "$probe" --nagios --warning rtt_ms=fast dht --bootstrap 127.0.0.86:25090 --network-id 7
expect_exit 3 "--nagios: a bad threshold is UNKNOWN"
expect_match "$OUT_FILE" "^OVERLAY UNKNOWN: threshold 'rtt_ms=fast'" "--nagios: the reason on stdout"
run "$probe" --nagios dht --no-such-option
expect_exit 3 "--nagios: an unknown option is UNKNOWN"
expect_match "$OUT_FILE" '^OVERLAY UNKNOWN: invalid arguments' "--nagios: one UNKNOWN line"
run "$probe" sip not-a-uri
expect_exit 2 "sip: a malformed URI"
run "$probe" sip sip:127.0.0.86:25093 --impu sip:alice@ims.test
expect_exit 2 "sip: --impu without --password"
run "$probe" sip --resolve sip:alice@ims.test
expect_exit 2 "sip: --resolve without the overlay"
run "$probe" swarm not-a-hash
expect_exit 2 "swarm: a source that is no magnet, hash or torrent"
expect_stderr_line 'content records' "swarm: content ids not supported, said so"
run "$probe" swarm 0123456789abcdef0123456789abcdef01234567
expect_exit 2 "swarm: an info-hash without tracker or peer"
run "$probe" license ftp://127.0.0.86/
expect_exit 2 "license: not an http(s) URL"
run "$probe" license 127.0.0.86:8443
expect_exit 2 "license: a URL without scheme"
run "$probe" all --testbed "$TEST_TMP/none.toml"
expect_exit 2 "all: a missing testbed file"
printf '[dns]\nbootstrap = "x"\n' >"$TEST_TMP/bad-kind.toml"
run "$probe" all --testbed "$TEST_TMP/bad-kind.toml"
expect_exit 2 "all: an unknown probe kind"
expect_stderr_line '\[dns\] is not a probe' "unknown kind named"
printf '[dht.x]\nbootstrap = ["127.0.0.86:25090"]\nnetwork-id = 7\nlookups = "many"\n' >"$TEST_TMP/bad-value.toml"
run "$probe" all --testbed "$TEST_TMP/bad-value.toml"
expect_exit 2 "all: a bad value in a section"
expect_stderr_line '\[dht.x\].*lookups' "bad value named with its section"
run "$probe" --rounds 2 license http://127.0.0.86:1/
expect_exit 2 "--rounds without --watch"

# Faulty peers: a UDP peer answering garbage, a silent one, a closed port, a name that does not resolve.
python3 - 127.0.0.86 25090 "$TEST_TMP/garbage.ready" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
s.settimeout(60)
try:
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(b"\x93garbage\xff" * 3, peer)
except socket.timeout:
    pass
PY
track $!
wait_for 5 test -e "$TEST_TMP/garbage.ready" || fail "the garbage peer did not start"
blackhole 127.0.0.86 25091

run "$probe" --timeout 2 dht --bootstrap 127.0.0.86:25090 --network-id 7 --bind 127.0.0.80
expect_exit 3 "dht: a peer answering garbage is no answer"
expect_stderr_line "127.0.0.86:25090: answers, but not as an OpenDHT node" "garbage peer diagnosed"
run "$probe" --timeout 2 dht --bootstrap 127.0.0.86:25091 --network-id 7 --bind 127.0.0.80
expect_exit 3 "dht: a silent peer is no answer"
expect_stderr_line "127.0.0.86:25091: silent.*another network id" "silent peer diagnosed"
run "$probe" --timeout 2 dht --bootstrap 127.0.0.86:25092 --network-id 7 --bind 127.0.0.80
expect_exit 3 "dht: a closed port is no answer"
expect_stderr_line "127.0.0.86:25092: nothing listens" "closed port diagnosed"
start=$(date +%s)
run "$probe" --nagios --timeout 2 dht --bootstrap 127.0.0.86:25092 --network-id 7 --bind 127.0.0.80
took=$(($(date +%s) - start))
expect_exit 2 "--nagios: an unreachable bootstrap is CRITICAL"
expect_match "$OUT_FILE" "^DHT CRITICAL: bootstrap unreachable \| 'nodes'=0$" "--nagios: one CRITICAL line with perfdata"
[ "$took" -le 10 ] && pass "an unreachable bootstrap is reported within --timeout ($took s)" || fail "took $took s"
run "$probe" --timeout 2 dht --bootstrap no-such-host.invalid:4222 --network-id 7
expect_exit 3 "dht: a name that does not resolve"
expect_stderr_line "cannot resolve no-such-host.invalid" "unresolvable name named"

run "$probe" --timeout 1 sip sip:127.0.0.86:25091 --count 1 --local 127.0.0.80
expect_exit 3 "sip: a silent node is no answer"
expect_match "$OUT_FILE" "no answer.*0/1 answered" "sip: no answer shown"
run "$probe" --timeout 1 --json sip sip:no-such-host.invalid --count 1
expect_exit 3 "sip: a name that does not resolve"
expect_match "$OUT_FILE" '"event":"sip_ping".*"error":"cannot resolve no-such-host.invalid' "sip: unresolvable host in its sip_ping event"
run "$probe" --timeout 2 license http://127.0.0.86:25092/
expect_exit 3 "license: nothing listening"
run "$probe" --timeout 2 --json license http://no-such-host.invalid/
expect_exit 3 "license: a name that does not resolve"
expect_match "$OUT_FILE" '"event":"probe".*"outcome":"no_answer"' "license: no_answer in the probe event"

expect_no_match "$ERR_FILE" 'AddressSanitizer|runtime error|terminate called' "no crash"
finish
