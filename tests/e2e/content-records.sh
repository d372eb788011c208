#!/usr/bin/env bash
# Content records in the managed overlay: a publisher certified by the
# overlay CA publishes film-1 (seeding, key deposited); a consumer resolves
# the content id through any core node, gets the licence with
# license-fetch --content, downloads and decrypts byte-exact; overlay-probe
# reports the record. A record signed by another CA's publisher is refused
# by the core nodes and by readers; an unknown content id is said so.
# Hosts: 127.0.0.91-93 the core (SIP 5060, DHT 4222), .94 the publisher
# (BitTorrent 6881), .95 the licence server (8080), .96 the consumer, .97 the probe.
# Usage: content-records.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
. "$(dirname "$0")/../lib/license.sh"
publish=$build/tools/swarm-publish
fetch=$build/tools/swarm-fetch
cd "$TEST_TMP"
export XDG_STATE_HOME=$TEST_TMP/state
cat >subs.csv <<CSV
impi,impus,auth,password
bob@ims.test,sip:bob@ims.test,md5,bob-secret
carol@ims.test,sip:carol@ims.test,md5,carol-secret
CSV
users_csv users.csv 1
overlay_ca core1 core2 core3 studio
"$build/tools/p2p-node" ca init --dir other-ca >/dev/null
"$build/tools/p2p-node" ca issue studio --dir other-ca >/dev/null
overlay_node_start core1 127.0.0.91 users.csv
overlay_node_start core2 127.0.0.92 users.csv 127.0.0.91:4222
overlay_node_start core3 127.0.0.93 users.csv 127.0.0.91:4222 127.0.0.92:4222
license_start ls 127.0.0.95:8080 subs.csv
license_admin ls publisher carol@ims.test
head -c 400000 /dev/urandom >film.bin
# Readers and the publisher join through every core node: through a single
# one, lookups were seen to miss records held by the others (see the report).
dhts=(--dht 127.0.0.91:4222 --dht 127.0.0.92:4222 --dht 127.0.0.93:4222)
overlay=("${dhts[@]}" --ca ca/ca.crt)

# Bad input, before any I/O.
run "$publish" film.bin --out bad --dht 127.0.0.91:4222
expect_exit 2 "publish: --dht without --publisher"
expect_stderr_line "--dht needs --publisher NAME and --credentials DIR" "said so"
run "$publish" film.bin --out bad --dht 127.0.0.91:4222 --credentials ca --publisher nobody
expect_exit 2 "publish: a publisher without a certificate"
run "$fetch" film-1 --dht 127.0.0.92:4222 --output x.bin
expect_exit 2 "fetch: --dht without --ca"
expect_stderr_line "--dht needs --ca FILE" "said so"
run "$fetch" 'bad id!' "${overlay[@]}" --output x.bin
expect_exit 2 "fetch: a malformed content id"
run "$build/tools/license-fetch" --content film-1 --output x.json --impi bob@ims.test --subscribers subs.csv
expect_exit 2 "license-fetch: --content without --dht"

# The publisher: encrypt, deposit the key, publish the record, seed, and
# republish every 5 s (a 10 s lifetime), so later readers prove the refresh.
"$publish" -v film.bin --out pub --content-id film-1 --license-server http://127.0.0.95:8080 --impi carol@ims.test \
  --subscribers subs.csv "${dhts[@]}" --credentials ca --publisher studio --lifetime 10 \
  --seed --listen 127.0.0.94:6881 --json >seed.out 2>seed.err &
track $!
wait_for 30 grep -q '"event":"seeding"' seed.out && pass "publish: record published, seeding" ||
  { fail "the publisher did not start seeding"; sed 's/^/  | /' seed.err | tail -20; }
[ "$(json_field seed.out published content_key)" = content:film-1 ] && pass "published: the record's key" ||
  fail "content_key: $(json_field seed.out published content_key)"
[ "$(json_field seed.out published publisher)" = studio ] && pass "published: signed by studio" || fail "publisher"
kid=$(json_field seed.out published kid)

run "$fetch" film-1 "${overlay[@]}" --peer 127.0.0.94:6881 --listen 127.0.0.96:6881 --output enc.bin --timeout 30
expect_exit 0 "fetch by content id, no licence: downloaded, kept encrypted"
expect_match "$OUT_FILE" "needs a licence for KID $kid from http://127.0.0.95:8080" "the KID and licence server needed are named"

wait_for 12 grep -q 'content record of film-1 published again' seed.err && pass "the publisher republishes before expiry" ||
  fail "no republication in seed.err"
sleep 6 # past the first record's expiry: only a republished one resolves now
run "$build/tools/license-fetch" --content film-1 "${overlay[@]}" --impi bob@ims.test \
  --subscribers subs.csv --output lic.json --json
expect_exit 0 "license-fetch --content: KID and server from the (republished) record"
expect_match "$OUT_FILE" "\"event\":\"resolved\".*\"kid\":\"$kid\"" "the record's KID"
expect_match "$OUT_FILE" '"event":"license".*"server":"http://127.0.0.95:8080"' "the record's licence server"
run "$fetch" film-1 "${overlay[@]}" --peer 127.0.0.94:6881 --listen 127.0.0.96:6881 --license lic.json --output film.out \
  --timeout 30 --json
expect_exit 0 "fetch by content id with the licence"
cmp -s film.bin film.out && pass "the decrypted file is byte-exact" || fail "the fetched file differs"
expect_match "$OUT_FILE" '"event":"resolved".*"content_id":"film-1".*"publisher":"studio"' "resolved event"

run "$build/tools/overlay-probe" --json swarm film-1 "${overlay[@]}" --peer 127.0.0.94:6881 \
  --listen 127.0.0.97:0
expect_exit 0 "overlay-probe swarm CONTENT-ID"
expect_match "$OUT_FILE" '"content_record":\{[^}]*"content_id":"film-1"[^}]*"publisher":"studio"' "the probe reports the record"
expect_match "$OUT_FILE" '"content_record":\{[^}]*"expires_at":"[0-9T:-]+Z"' "with its expiry"

run "$fetch" no-such-film "${overlay[@]}" --output none.bin
expect_exit 1 "fetch: an unknown content id"
expect_stderr_line "content id no-such-film has no content record in the overlay" "said so"
run "$build/tools/overlay-probe" swarm no-such-film "${overlay[@]}"
expect_exit 1 "probe: an unknown content id"

# Readers trusting another CA refuse the genuine record.
run "$fetch" film-1 "${dhts[@]}" --ca other-ca/ca.crt --output other.bin
expect_exit 4 "fetch against another CA: the record is not used"
expect_stderr_line "content id film-1 has no valid content record: .*untrusted-signer.*publisher studio" "said why"
[ ! -e other.bin ] && pass "nothing written" || fail "other.bin written"

# A publisher certified by another CA: the core nodes refuse its record.
# OpenDHT acknowledges the put all the same: the refusal shows in the nodes'
# logs, and no reader ever gets the record.
run "$publish" film.bin --out pub-forged --content-id film-forged "${dhts[@]}" --credentials other-ca --publisher studio
wait_for 5 grep -q '"event":"dropped_forged_value".*content:film-forged.*untrusted-signer' p2p-core1/stdout p2p-core2/stdout \
  p2p-core3/stdout && pass "a core node logs the forged record" || fail "no dropped_forged_value for film-forged"
run "$fetch" film-forged "${overlay[@]}" --output forged.bin
expect_exit 1 "the forged record is nowhere to be found"

for node in core1 core2 core3; do
  expect_no_match "p2p-$node/stderr" 'AddressSanitizer|runtime error|terminate called' "$node did not crash"
done
finish
