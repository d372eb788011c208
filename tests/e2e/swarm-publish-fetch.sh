#!/usr/bin/env bash
# swarm-publish seeds, swarm-fetch downloads and decrypts, byte-exact: from a
# torrent file, a magnet link, without a licence then decrypting, with the
# wrong licence (exit 4), a directory, v1-only and v2-only torrents, an
# interrupted fetch resumed, --seed-after, --ratio, per-peer upload stats.
# Hosts: 127.0.61.1 the publisher, .2-.9 fetchers.
# Usage: swarm-publish-fetch.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
publish=$build/tools/swarm-publish
fetch=$build/tools/swarm-fetch
cd "$TEST_TMP"
head -c 3000000 /dev/urandom >film.bin

# seed NAME ARGS...: swarm-publish --seed --json in the background, waits for "seeding".
seed() {
  local name=$1
  shift
  "$publish" "$@" --seed --json >"$name.out" 2>"$name.err" &
  track $!
  eval "SEED_PID_$name=$!"
  wait_for 20 grep -q '"event":"seeding"' "$name.out" || { fail "$name did not start seeding"; cat "$name.err"; }
}

seed main film.bin --out pub --listen 127.0.61.1:6881 --stats-interval 0.5
key=pub/film.bin.key
magnet=$(json_field main.out published magnet)
kid=$(json_field main.out published kid)

run "$fetch" pub/film.bin.torrent --peer 127.0.61.1:6881 --listen 127.0.61.2:6881 --license "$key" --output a.bin --json
expect_exit 0 "fetch from the torrent file with the licence"
cmp -s film.bin a.bin && pass "torrent fetch: byte-exact" || fail "torrent fetch: the file differs"
[ "$(json_field "$OUT_FILE" fetched decrypted)" = true ] && pass "fetched says decrypted" || fail "fetched does not say decrypted"
[ ! -e a.bin.swarm ] && pass "the default state directory is removed" || fail "a.bin.swarm left behind"

run "$fetch" "$magnet" --peer 127.0.61.1:6881 --listen 127.0.61.3:6881 --license "$key" --output b.bin
expect_exit 0 "fetch from the magnet link"
cmp -s film.bin b.bin && pass "magnet fetch: byte-exact" || fail "magnet fetch: the file differs"

run "$fetch" "$magnet" --peer 127.0.61.1:6881 --listen 127.0.61.4:6881 --output c.enc --json
expect_exit 0 "fetch without a licence"
expect_stderr_line "c.enc is encrypted: it needs a licence for KID $kid" "the warning names the KID"
[ "$(json_field "$OUT_FILE" fetched kid)" = "$kid" ] && pass "fetched names the KID" || fail "fetched kid: $(json_field "$OUT_FILE" fetched kid)"
cmp -s pub/data/film.bin.enc c.enc && pass "without a licence: the ciphertext is kept" || fail "the ciphertext differs"
run "$fetch" c.enc --license "$key" --output c.bin
expect_exit 0 "decrypt the kept ciphertext later"
cmp -s film.bin c.bin && pass "later decryption: byte-exact" || fail "later decryption: the file differs"

head -c 1000 /dev/urandom >other.bin
"$publish" other.bin --out pub-other -q >/dev/null
run "$fetch" "$magnet" --peer 127.0.61.1:6881 --listen 127.0.61.5:6881 --license pub-other/other.bin.key --output d.bin
expect_exit 4 "fetch with the wrong licence"
expect_stderr_line "no key for KID $kid, which film.bin.enc needs" "wrong licence message"
[ ! -e d.bin ] && pass "nothing written to --output with the wrong licence" || fail "d.bin written"

# The publisher's per-peer upload, then a clean stop on SIGTERM.
sleep 1
python3 - main.out <<'PY' && pass "seed_stats reports upload per peer" || fail "no per-peer upload in seed_stats"
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"seed_stats"' in l]
last = stats[-1]
peers = {p["address"]: p["uploaded_bytes"] for p in last["peers"]}
print("  uploaded", last["uploaded_bytes"], "peers", peers)
assert last["uploaded_bytes"] >= 3 * 3000000
assert all(peers.get(a, 0) >= 3000000 for a in ("127.0.61.2", "127.0.61.3", "127.0.61.4"))
PY
kill -TERM "$SEED_PID_main"
wait "$SEED_PID_main" && pass "the seeder exits 0 on SIGTERM" || fail "the seeder exited $? on SIGTERM"
[ "$(json_field main.out seed_done reason)" = signal ] && pass "seed_done reason signal" || fail "seed_done: $(tail -1 main.out)"

# A directory, v2-only; fetched into a directory.
mkdir -p album/disc2
head -c 70000 /dev/urandom >album/one.bin
head -c 5 /dev/urandom >album/disc2/two.bin
head -c 300000 /dev/urandom >album/disc2/three.bin
seed album album --out pub-album --v2-only --listen 127.0.61.1:6882
run "$fetch" pub-album/album.torrent --peer 127.0.61.1:6882 --listen 127.0.61.6:6881 --license pub-album/album.key --output album-copy
expect_exit 0 "fetch a v2-only directory"
diff -r album album-copy >/dev/null && pass "directory: byte-exact" || fail "directory differs: $(diff -r album album-copy 2>&1 | head -3)"
kill -TERM "$SEED_PID_album"

# v1-only with small pieces, seeder stops at ratio 1.
seed v1 film.bin --out pub-v1 --v1-only --piece-size 32k --listen 127.0.61.1:6883 --ratio 1
run "$fetch" pub-v1/film.bin.torrent --peer 127.0.61.1:6883 --listen 127.0.61.7:6881 --license pub-v1/film.bin.key --output e.bin
expect_exit 0 "fetch a v1-only torrent"
cmp -s film.bin e.bin && pass "v1-only: byte-exact" || fail "v1-only: the file differs"
wait_for 10 grep -q '"reason":"ratio"' v1.out && pass "the seeder stopped at --ratio 1" || fail "no stop at ratio 1: $(tail -1 v1.out)"

# An interrupted fetch resumes: 12 MB at 2 MiB/s, SIGINT once 3 MB are in
# (waiting on the stats, not on the clock: a slow machine takes longer to start).
head -c 12000000 /dev/urandom >big.bin
seed big big.bin --out pub-big --listen 127.0.61.1:6884
"$fetch" pub-big/big.bin.torrent --peer 127.0.61.1:6884 --listen 127.0.61.8:6881 --license pub-big/big.bin.key \
  --output big-copy.bin --state-dir big-state --rate-limit 2m --json --stats-interval 0.2 >interrupted.out 2>interrupted.err &
fetch_pid=$!
track $fetch_pid
done_bytes() { sed -n 's/.*"done_bytes":\([0-9]*\).*/\1/p' interrupted.out | tail -1; }
three_mb_in() { [ "$(done_bytes)" -ge 3000000 ] 2>/dev/null; }
wait_for 30 three_mb_in || fail "the fetch made no progress: $(tail -1 interrupted.out)"
kill -INT $fetch_pid
set +e
wait $fetch_pid
rc=$?
set -e
RC=$rc LAST_CMD="interrupted fetch" OUT_FILE=interrupted.out ERR_FILE=interrupted.err
expect_exit 5 "an interrupted fetch"
expect_stderr_line "interrupted with [0-9]+ of 12000064 bytes: run the same command to resume" "interrupted message"
had=$(sed -n 's/.*interrupted with \([0-9]*\) of.*/\1/p' interrupted.err)
[ -s big-state/resume.dat ] && pass "resume data saved" || fail "no resume data"
OUT_FILE=$TEST_TMP/stdout ERR_FILE=$TEST_TMP/stderr
run "$fetch" pub-big/big.bin.torrent --peer 127.0.61.1:6884 --listen 127.0.61.8:6881 --license pub-big/big.bin.key \
  --output big-copy.bin --state-dir big-state --json
expect_exit 0 "the fetch resumed"
[ "$(json_field "$OUT_FILE" fetched resumed)" = true ] && pass "fetched says resumed" || fail "not resumed"
downloaded=$(json_field "$OUT_FILE" fetched downloaded_bytes)
# Pieces in flight at the interrupt are fetched again: allow 1 MiB of them.
rest=$((12000064 - ${had:-0}))
[ "${had:-0}" -ge 3000000 ] && [ "$downloaded" -le $((rest + 1048576)) ] &&
  pass "the second run downloaded only the rest ($downloaded of $rest bytes missing)" ||
  fail "downloaded again: $downloaded bytes with $rest missing (had ${had:-none})"
cmp -s big.bin big-copy.bin && pass "resumed: byte-exact" || fail "resumed: the file differs"

# --seed-after: a fetcher keeps seeding after the publisher is gone.
"$fetch" pub-big/big.bin.torrent --peer 127.0.61.1:6884 --listen 127.0.61.8:6882 --license pub-big/big.bin.key \
  --output f.bin --seed-after 60 --json >seed-after.out 2>seed-after.err &
track $!
wait_for 20 grep -q '"event":"fetched"' seed-after.out && pass "the first fetcher is done" || fail "first fetcher: $(cat seed-after.err)"
kill -TERM "$SEED_PID_big"
wait "$SEED_PID_big" || true
run "$fetch" pub-big/big.bin.torrent --peer 127.0.61.8:6882 --listen 127.0.61.9:6881 --license pub-big/big.bin.key --output g.bin --timeout 20
expect_exit 0 "fetch from a fetcher seeding after (--seed-after)"
cmp -s big.bin g.bin && pass "--seed-after: byte-exact" || fail "--seed-after: the file differs"
finish
