#!/usr/bin/env bash
# Encrypted content over BitTorrent with a central DRM licence server: the
# provider encrypts a file, deposits its key (pay-per-download, price 4) and
# seeds it; bob buys a licence (his balance is debited, a CDR is written),
# fetches from the swarm and decrypts byte-exact.
# Hosts: 127.0.103.40 the licence server, .31 the provider, .3 bob.
. "$(dirname "$0")/lib.sh"
subscribers
license-server --listen 127.0.103.40:8080 --state-dir drm --subscribers subscribers.csv --domain ims.test --json \
  >drm.out 2>drm.err &
check "the licence server is up" wait_for 10 grep -q '"event":"listening"' drm.out
# The operator's admin work: who may publish, and bob's balance.
license-server admin publisher provider@ims.test --state-dir drm
license-server admin credit bob@ims.test 10 --state-dir drm

head -c 4000000 /dev/urandom >film.bin
swarm-publish film.bin --out pub --content-id film-1 --license-server http://127.0.103.40:8080 \
  --impi provider@ims.test --subscribers subscribers.csv --license-policy pay-per-download --price 4 \
  --seed --listen 127.0.103.31:6881 --json >provider.out 2>provider.err &
check "the provider publishes, deposits the key and seeds" wait_for 30 grep -q '"event":"seeding"' provider.out
kid=$(event provider.out published kid)
magnet=$(event provider.out published magnet)
echo "content film-1: KID $kid"

check "bob buys a licence for that KID" license-fetch --kid "$kid" --server http://127.0.103.40:8080 \
  --impi bob@ims.test --subscribers subscribers.csv --output bob-licence.json
license-server admin show --state-dir drm --json | jq -c 'select(.impi == "bob@ims.test") | {impi, balance}'
license-server cdr --state-dir drm --json >cdr.jsonl
check "one CDR, price 4, for bob" test "$(jq -r 'select(.impi == "bob@ims.test") | .price' cdr.jsonl)" = 4

check "bob fetches from the swarm and decrypts" swarm-fetch "$magnet" --peer 127.0.103.31:6881 --listen 127.0.103.3:6881 \
  --license bob-licence.json --output bob-film.bin
check "bob's copy is byte-exact" cmp -s film.bin bob-film.bin
# Without the licence the ciphertext is kept, and the tool says which KID it needs.
rc=0
swarm-fetch "$magnet" --peer 127.0.103.31:6881 --listen 127.0.103.3:6882 --output other.bin 2>nolicence.err || rc=$?
echo "without a licence (exit $rc): $(tail -1 nolicence.err)"
verdict
