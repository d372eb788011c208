#!/usr/bin/env bash
# overlay-probe swarm against a real opentracker (whitelist mode, as Debian
# builds it) and a swarm-publish seeder: scrape, peers, piece availability,
# full copy; a swarm with no peers; a tracker that is down.
# Hosts: 127.0.0.83 opentracker (6969), .84 the seeder (6881), .80 the probe,
# 127.0.0.83:6970 nobody.
# Usage: overlay-probe-swarm.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
probe=$build/tools/overlay-probe
publish=$build/tools/swarm-publish
command -v opentracker >/dev/null || { echo "SKIP: opentracker is not installed (scripts/setup installs it)"; exit 0; }
cd "$TEST_TMP"
tracker=http://127.0.0.83:6969/announce
head -c 3000000 /dev/urandom >film.bin

mkdir -p ot && chmod 755 ot
: >ot/whitelist.txt && chmod 644 ot/whitelist.txt
printf 'listen.tcp_udp 127.0.0.83:6969\ntracker.rootdir %s\ntracker.user nobody\naccess.whitelist whitelist.txt\n' \
  "$TEST_TMP/ot" >ot.conf
opentracker -f ot.conf >ot.log 2>&1 &
ot_pid=$!
track $ot_pid
wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.83/6969" && pass "opentracker listens" || fail "opentracker did not start: $(cat ot.log)"
allow() {
  local hash
  for hash in "$@"; do echo "${hash:0:40}" >>ot/whitelist.txt; done
  kill -HUP $ot_pid
  sleep 0.3
}

run "$publish" film.bin --out pub --tracker "$tracker" --piece-size 65536 --json
expect_exit 0 "publish with the tracker"
magnet=$(json_field "$OUT_FILE" published magnet)
hash=$(json_field "$OUT_FILE" published info_hash_v1)
allow "$hash" 00000000000000000000000000000000000000aa
"$publish" film.bin --out pub --reseed --seed --listen 127.0.0.84:6881 --json >seeder.out 2>seeder.err &
track $!
wait_for 20 grep -q '"event":"seeding"' seeder.out && pass "the seeder seeds" || fail "the seeder did not start: $(tail -3 seeder.err)"

# The seeder announces once it seeds: probe until the tracker counts it (bounded).
seeded() { "$probe" --json swarm "$magnet" --listen 127.0.0.80:0 >probe.json 2>probe.err; }
ok=0
for _ in 1 2 3 4 5; do seeded && { ok=1; break; }; sleep 1; done
[ $ok = 1 ] && pass "swarm probe of a seeded swarm exits 0" || fail "swarm probe: $(cat probe.err)"
grep '"event":"probe"' probe.json | sed 's/^/  | /'
scrape=$(json_field probe.json probe scrape)
echo "$scrape" | grep -q '"seeds": 1' && pass "the scrape counts one seed" || fail "scrape: $scrape"
[ "$(json_field probe.json probe full_copy)" = true ] && pass "a full copy exists" || fail "full_copy"
[ "$(json_field probe.json probe connected_seeds)" = 1 ] && pass "the probe reached the seed" || fail "connected_seeds"
[ "$(json_field probe.json probe pieces)" = 46 ] && pass "46 pieces of 64 KiB" || fail "pieces $(json_field probe.json probe pieces)"
[ "$(json_field probe.json probe least_available)" = 1 ] && pass "every piece available once" || fail "least_available"
expect_match probe.json '"event":"swarm_peer".*"address":"127.0.0.84:6881".*"seed":true' "the seeder in a swarm_peer event"
expect_match probe.json '"availability":\[1(,1){45}\]' "per-piece availability"
[ "$(ls pub)" = "$(ls pub)" ] && [ ! -e "$TEST_TMP/film.bin.swarm" ] && pass "the probe downloads nothing" || fail "files left"

run "$probe" swarm "$hash" --tracker "$tracker" --listen 127.0.0.80:0
expect_exit 0 "by info-hash with --tracker"
expect_match "$OUT_FILE" 'distributed copies +[0-9.]+; full copy exists' "text: distributed copies and full copy"
sed 's/^/  | /' "$OUT_FILE"

run "$probe" --nagios --critical seeds=1 swarm "$hash" --tracker "$tracker" --listen 127.0.0.80:0
expect_exit 0 "--nagios OK with one seed"
expect_match "$OUT_FILE" "^SWARM OK: 1 seeds.* \| 'seeds'=1;;1: 'peers'=1 'copies'=" "--nagios line"

run "$probe" swarm 00000000000000000000000000000000000000aa --tracker "$tracker" --listen 127.0.0.80:0 --timeout 5
expect_exit 1 "a swarm with no peers"
expect_stderr_line 'the swarm has no peers' "no peers said"

run "$probe" swarm "$hash" --tracker http://127.0.0.83:6970/announce --listen 127.0.0.80:0 --timeout 3
expect_exit 3 "a tracker that is down"
expect_stderr_line 'announce failed|scrape failed|no tracker answered' "the tracker failure said"
finish
