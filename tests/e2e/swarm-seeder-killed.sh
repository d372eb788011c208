#!/usr/bin/env bash
# A seeder killed mid-transfer: swarm-publish seeds an 8 MB file; a first
# fetcher completes and stays as a second seed (--seed-after); four
# rate-limited fetchers start from both seeds; once the publisher has
# uploaded to each of them and each has part of the file, the publisher is
# SIGKILLed. Every fetcher completes, byte-exact, from the remaining peers.
# Hosts: 127.0.213.1 the publisher, .2 the second seed, .3-.6 the fetchers.
# Usage: swarm-seeder-killed.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
publish=$build/tools/swarm-publish
fetch=$build/tools/swarm-fetch
cd "$TEST_TMP"
size=8000000
head -c $size /dev/urandom >film.bin
fetchers=(3 4 5 6)

"$publish" film.bin --out pub --listen 127.0.213.1:6881 --seed --stats-interval 0.2 --json >seeder.out 2>seeder.err &
seeder=$!
track $seeder
wait_for 20 grep -q '"event":"seeding"' seeder.out && pass "the publisher seeds" || { fail "the publisher did not seed"; cat seeder.err; }
torrent=pub/film.bin.torrent
key=pub/film.bin.key

"$fetch" $torrent --peer 127.0.213.1:6881 --listen 127.0.213.2:6881 --license $key --output second.bin \
  --seed-after 120 --json >second.out 2>second.err &
track $!
wait_for 30 grep -q '"event":"fetched"' second.out && pass "a second complete seed (swarm-fetch --seed-after)" ||
  { fail "the second seed did not complete"; cat second.err; }
cmp -s film.bin second.bin || fail "the second seed's copy differs"

# The fetchers at 1 MiB/s each: 8 s for the file, so the kill lands mid-transfer.
declare -A fetch_pid
for f in "${fetchers[@]}"; do
  "$fetch" $torrent --peer 127.0.213.1:6881 --peer 127.0.213.2:6881 --listen 127.0.213.$f:6881 --license $key \
    --output "f$f.bin" --rate-limit 1m --timeout 60 --stats-interval 0.2 --json >"f$f.out" 2>"f$f.err" &
  fetch_pid[$f]=$!
  track $!
done
# done_bytes FETCHER: its latest progress.
done_bytes() { sed -n 's/.*"done_bytes":\([0-9]*\).*/\1/p' "f$1.out" | tail -1; }
# from_seeder FETCHER: bytes the publisher uploaded to it so far.
from_seeder() {
  python3 - seeder.out "127.0.213.$1" <<'PY'
import json, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"seed_stats"' in l]
print(sum(p["uploaded_bytes"] for p in (stats[-1]["peers"] if stats else []) if p["address"] == sys.argv[2]))
PY
}
mid_transfer() {
  local f
  for f in "${fetchers[@]}"; do
    [ "$(done_bytes "$f")" -ge 1000000 ] 2>/dev/null || return 1
    [ "$(from_seeder "$f")" -gt 0 ] || return 1
  done
}
wait_for 30 mid_transfer && pass "each fetcher has 1 MB or more, some of it from the publisher" ||
  fail "the fetchers made no progress from the publisher"
kill -9 $seeder
wait $seeder 2>/dev/null || true
report="" unfinished=0
for f in "${fetchers[@]}"; do
  report+=" f$f=$(done_bytes "$f")/$(from_seeder "$f")"
  grep -q '"event":"fetched"' "f$f.out" || unfinished=$((unfinished + 1))
done
echo "info: publisher SIGKILLed; bytes done/bytes from the publisher per fetcher:$report"
[ $unfinished -eq ${#fetchers[@]} ] && pass "all ${#fetchers[@]} fetchers were mid-transfer at the kill" ||
  fail "only $unfinished of ${#fetchers[@]} fetchers were unfinished at the kill"

for f in "${fetchers[@]}"; do
  set +e
  wait "${fetch_pid[$f]}"
  rc=$?
  set -e
  [ $rc -eq 0 ] && pass "fetcher .$f completed after the publisher died" || { fail "fetcher .$f exited $rc"; tail -3 "f$f.err"; }
  cmp -s film.bin "f$f.bin" && pass "fetcher .$f: byte-exact" || fail "fetcher .$f: the file differs"
done
finish
