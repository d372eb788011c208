#!/usr/bin/env bash
# overlay-probe swarm against a swarm seeded by a real transmission-daemon
# 3.00 (issue 8, item 7), with a real opentracker (whitelist mode, as Debian
# builds it) as the tracker: the scrape counts the seed, the probe connects
# to transmission (which accepts loopback peers, though it never dials them),
# sees its bitfield, and reports every piece available once and a full copy.
# Hosts: 127.0.0.86 opentracker (6969), 127.0.0.89 transmission (peer 51413,
# RPC 9091), 127.0.0.80 the probe.
# Usage: overlay-probe-transmission.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/bittorrent.sh"
probe=$build/tools/overlay-probe
for tool in opentracker transmission-daemon transmission-remote transmission-create; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup installs it)"; exit 0; }
done
cd "$TEST_TMP"
tracker=http://127.0.0.86:6969/announce

opentracker_start 127.0.0.86:6969

# The content, and a v1 torrent made by transmission-create (transmission 3.00 knows no v2).
mkdir -p tr/downloads
head -c 3000000 /dev/urandom >tr/downloads/clip.bin
transmission-create -o clip.torrent -t "$tracker" tr/downloads/clip.bin >/dev/null
read -r hash pieces < <(python3 - clip.torrent <<'PY'
import hashlib, re, sys
data = open(sys.argv[1], "rb").read()
start = data.index(b"4:infod") + 6
piece = int(re.search(rb"12:piece lengthi(\d+)e", data).group(1))
length = int(re.search(rb"6:lengthi(\d+)e", data).group(1))
# the info dict runs to the byte before the final 'e' of the torrent
print(hashlib.sha1(data[start:-1]).hexdigest(), -(-length // piece))
PY
)
allow "$hash"

# transmission-daemon seeds it: no DHT, LPD, PEX, uTP; peers and RPC on 127.0.0.89.
transmission_start 127.0.0.89
remote -a clip.torrent >/dev/null && pass "transmission takes the torrent" || fail "transmission refused the torrent"
seeding() { remote -t all -i | grep -q 'Percent Done: 100%'; }
wait_for 30 seeding &&
  pass "transmission verified the content and seeds" || fail "transmission does not seed: $(remote -t all -i | grep -E 'State|Percent')"

# transmission announces once it seeds: probe until the tracker counts it (bounded).
seeded() {
  "$probe" --json --timeout 20 swarm "$hash" --tracker "$tracker" --listen 127.0.0.80:0 >probe.json 2>probe.err &&
    [ "$(json_field probe.json probe connected_seeds)" = 1 ]
}
ok=0
for _ in 1 2 3 4 5 6; do seeded && { ok=1; break; }; sleep 2; done
[ $ok = 1 ] && pass "swarm probe of transmission's swarm exits 0" ||
  fail "swarm probe: $(cat probe.err) $(json_field probe.json probe scrape) $(remote -t all -i | grep -E 'State|Peers|Tracker' | paste -sd' ')"
grep '"event":"probe"' probe.json | sed 's/^/  | /'
scrape=$(json_field probe.json probe scrape)
echo "$scrape" | grep -q '"seeds": 1' && pass "the scrape counts transmission as the one seed" || fail "scrape: $scrape"
[ "$(json_field probe.json probe full_copy)" = true ] && pass "a full copy exists" || fail "full_copy"
[ "$(json_field probe.json probe pieces)" = "$pieces" ] && pass "$pieces pieces, as in the torrent" ||
  fail "pieces $(json_field probe.json probe pieces), expected $pieces"
[ "$(json_field probe.json probe least_available)" = 1 ] && pass "every piece available once" || fail "least_available"
expect_match probe.json '"event":"swarm_peer".*"address":"127.0.0.89:51413".*"client":"Transmission[^"]*".*"seed":true' \
  "transmission in a swarm_peer event, as a seed"
expect_match probe.json "\"availability\":\\[1(,1){$((pieces - 1))}\\]" "per-piece availability"

# transmission admits new peers only every ~10 s, and a third probe in quick
# succession was seen to get no connection: the later probes retry (bounded).
run_until_ok() { for _ in 1 2 3 4; do run "$@"; [ "$RC" = 0 ] && return; sleep 5; done; }
run_until_ok "$probe" --timeout 20 swarm clip.torrent --listen 127.0.0.80:0
expect_exit 0 "the same swarm from the .torrent file"
expect_match "$OUT_FILE" 'distributed copies +[0-9.]+; full copy exists' "text: distributed copies and full copy"
sed 's/^/  | /' "$OUT_FILE"
run_until_ok "$probe" --nagios --critical seeds=1 --timeout 20 swarm "$hash" --tracker "$tracker" --listen 127.0.0.80:0
expect_exit 0 "--nagios OK with transmission as the seed"
expect_match "$OUT_FILE" "^SWARM OK: 1 seeds.* \| 'seeds'=1;;1: 'peers'=1 'copies'=" "--nagios line"
[ ! -e clip.bin ] && pass "the probe downloads nothing" || fail "the probe wrote clip.bin"
finish
