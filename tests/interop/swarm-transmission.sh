#!/usr/bin/env bash
# swarm-publish and swarm-fetch with the BitTorrent ecosystem, byte-exact both
# ways, with a real opentracker (whitelist mode, as Debian builds it) as the
# tracker and a real transmission-daemon 3.00 as the other client:
#  1. transmission downloads a swarm-publish torrent (of the ciphertext; v1:
#     transmission 3.00 refuses hybrid and v2 torrents as "invalid or corrupt")
#     from a swarm-publish seeder; transmission never dials
#     loopback peers, so the seeder learns of it from the tracker and dials it;
#  2. swarm-fetch downloads from transmission seeding that same torrent, and
#     decrypts with the licence;
#  3. swarm-fetch downloads a torrent made by transmission-create (v1, clear).
# Hosts: 127.0.62.1 opentracker, .2 swarm-publish, .3 transmission, .4 swarm-fetch.
# Usage: swarm-transmission.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/bittorrent.sh"
publish=$build/tools/swarm-publish
fetch=$build/tools/swarm-fetch
for tool in opentracker transmission-daemon transmission-remote transmission-create; do
  command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/setup installs it)"; exit 0; }
done
cd "$TEST_TMP"
tracker=http://127.0.62.1:6969/announce
head -c 5000000 /dev/urandom >film.bin

# opentracker: chrooted to its root dir, drops to nobody, whitelist-only.
opentracker_start 127.0.62.1:6969
# transmission-daemon on 127.0.62.3: no DHT, LPD, PEX, uTP; RPC on loopback.
transmission_start 127.0.62.3

# 1. transmission downloads from a swarm-publish seeder.
run "$publish" film.bin --out pub --v1-only --tracker "$tracker" --json
expect_exit 0 "publish a v1 torrent with the tracker"
allow "$(json_field "$OUT_FILE" published info_hash_v1)"
remote -a pub/film.bin.torrent >/dev/null && pass "transmission accepts the torrent" || fail "transmission refused the torrent"
sleep 1 # let transmission announce first: the seeder's announce then names it
"$publish" film.bin --out pub --v1-only --reseed --seed --listen 127.0.62.2:6881 --json >seeder.out 2>seeder.err &
seeder=$!
track $seeder
wait_for 20 grep -q '"event":"seeding"' seeder.out && pass "swarm-publish seeds the publication again (--reseed)" ||
  fail "the seeder did not start: $(cat seeder.err)"
if wait_for 60 cmp -s pub/data/film.bin.enc tr/downloads/film.bin.enc; then
  pass "transmission downloaded from swarm-publish: byte-exact ciphertext"
else
  fail "transmission did not get the file: $(remote -t all -i 2>&1 | grep -E 'State|Percent|Peers' | paste -sd' ')"
fi
run "$fetch" tr/downloads/film.bin.enc --license pub/film.bin.key --output film-tr.bin
expect_exit 0 "decrypt transmission's download"
cmp -s film.bin film-tr.bin && pass "transmission's copy decrypts byte-exact" || fail "transmission's copy differs"
sleep 1.5
python3 - seeder.out <<'PY' && pass "the seeder reports its upload to transmission" || fail "no upload to 127.0.62.3 in seed_stats"
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"seed_stats"' in l]
peers = {p["address"]: p for p in stats[-1]["peers"]}
print("  peer", peers.get("127.0.62.3"))
assert peers["127.0.62.3"]["uploaded_bytes"] >= 5000064
PY
kill -TERM $seeder
wait $seeder || true

# 2. swarm-fetch downloads from transmission, which now seeds the torrent alone.
magnet=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "reseeding" in l][0]["magnet"])' seeder.out)
run "$fetch" "$magnet" --listen 127.0.62.4:6881 --peer 127.0.62.3:51413 --license pub/film.bin.key --output film-from-tr.bin \
  --timeout 60 --json
expect_exit 0 "swarm-fetch downloads the magnet link from transmission"
cmp -s film.bin film-from-tr.bin && pass "from transmission: decrypted byte-exact" || fail "from transmission: the file differs"
python3 - "$OUT_FILE" <<'PY' && pass "the data came from transmission" || fail "no bytes from 127.0.62.3"
import json, sys
fetched = [json.loads(l) for l in open(sys.argv[1]) if '"fetched"' in l][0]
peers = {p["address"]: p for p in fetched["peers"]}
print("  peer", peers.get("127.0.62.3"))
assert peers["127.0.62.3"]["downloaded_bytes"] >= 5000064
PY

# 3. A torrent transmission-create made (v1, clear content), seeded by transmission.
head -c 3000000 /dev/urandom >tr/downloads/clip.bin
transmission-create -o clip.torrent -t "$tracker" tr/downloads/clip.bin >/dev/null
clip_hash=$(python3 - clip.torrent <<'PY'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
start = data.index(b"4:infod") + 6
# the info dict runs to the byte before the final 'e' of the torrent
print(hashlib.sha1(data[start:-1]).hexdigest())
PY
)
allow "$clip_hash"
remote -a clip.torrent >/dev/null
run "$fetch" clip.torrent --listen 127.0.62.4:6882 --peer 127.0.62.3:51413 --output clip-copy.bin --timeout 60 --json
expect_exit 0 "swarm-fetch downloads a transmission-create torrent"
cmp -s tr/downloads/clip.bin clip-copy.bin && pass "transmission-create torrent: byte-exact" || fail "clip differs"
[ "$(json_field "$OUT_FILE" fetched info_hash_v1)" = "$clip_hash" ] && pass "same v1 info hash as the tracker's whitelist" ||
  fail "info hash $(json_field "$OUT_FILE" fetched info_hash_v1) != $clip_hash"
finish
