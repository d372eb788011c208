#!/usr/bin/env bash
# publish -> licence -> decrypt with no key file passed by hand:
# swarm-publish --license-server deposits the key (publisher credentials),
# its published event names the server, license-fetch gets the licence for
# the encrypted file's KID as an AKA subscriber, swarm-fetch decrypts; and
# the same through the swarm: seed, licence, download and decrypt.
# Hosts: 127.0.0.73 the licence server (8080) and the seeding publisher
# (6881), 127.0.0.76 the swarm downloader.
# Usage: license-publish-fetch.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
publish=$build/tools/swarm-publish
cd "$TEST_TMP"
export XDG_STATE_HOME=$TEST_TMP/state
cat >subs.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000040
carol@ims.test,sip:carol@ims.test,md5,carol-secret,,,,,
CSV
head -c 300000 /dev/urandom >film.bin
license_start ls 127.0.0.73:8080 subs.csv

run "$publish" film.bin --out pub0 --license-server http://127.0.0.73:8080 --impi carol@ims.test --subscribers subs.csv
expect_exit 4 "publish: a deposit without the publisher role"
expect_stderr_line "refused the key deposit \(403\): carol@ims.test may not deposit keys" "publish: 403 message"
run "$publish" film.bin --out pub1 --license-server http://127.0.0.73:8080 --license-policy pay-per-download
expect_exit 2 "publish: pay-per-download without --price"
run "$publish" film.bin --out pub1 --license-policy subscription
expect_exit 2 "publish: --license-policy without --license-server"

license_admin ls publisher carol@ims.test
license_admin ls credit bob@ims.test 12
run "$publish" film.bin --out pub --content-id film-1 --license-server http://127.0.0.73:8080 --impi carol@ims.test \
  --subscribers subs.csv --license-policy pay-per-download --price 5 --json
expect_exit 0 "publish: encrypted and the key deposited"
server=$(json_field "$OUT_FILE" published license_server)
[ "$server" = http://127.0.0.73:8080 ] && pass "the published event names the licence server" || fail "license_server: $server"
expect_match "$OUT_FILE" '"license_url":"http://127.0.0.73:8080/license"' "the published event gives the licence URL"
data=$(json_field "$OUT_FILE" published data)

run "$build/tools/license-fetch" "$data" --server "$server" --impi bob@ims.test --subscribers subs.csv --output lic.json --json
expect_exit 0 "license-fetch: the licence for the encrypted file's KID (AKAv1-MD5)"
run "$build/tools/swarm-fetch" "$data" --license lic.json --output film.out
expect_exit 0 "swarm-fetch: decrypted with the fetched licence"
cmp -s film.bin film.out && pass "the decrypted file is the published one" || fail "the decrypted file differs"
run "$build/tools/license-server" cdr --state-dir ls --json
expect_match "$OUT_FILE" '"impi":"bob@ims.test","kid":"[0-9a-f]{32}","policy":"pay-per-download","price":5' "the CDR charges bob 5"
expect_match "$OUT_FILE" '"content_id":"film-1"' "the CDR names the content id"
# Through the swarm: the publisher seeds, the consumer takes server and KID
# from the published event, fetches the licence, then downloads and decrypts.
"$publish" film.bin --out pub-seed --content-id film-2 --license-server http://127.0.0.73:8080 --impi carol@ims.test \
  --subscribers subs.csv --seed --listen 127.0.0.73:6881 --json >seed.out 2>seed.err &
track $!
wait_for 20 grep -q '"event":"seeding"' seed.out && pass "publish: seeding with the key deposited (free)" ||
  { fail "the publisher did not start seeding"; cat seed.err; }
run "$build/tools/license-fetch" --kid "$(json_field seed.out published kid)" --server "$(json_field seed.out published license_server)" \
  --impi bob@ims.test --subscribers subs.csv --output swarm-lic.json
expect_exit 0 "license-fetch: the licence for the seeded content's KID"
run "$build/tools/swarm-fetch" "$(json_field seed.out published magnet)" --peer 127.0.0.73:6881 --listen 127.0.0.76:6881 \
  --license swarm-lic.json --output swarm.bin --timeout 30
expect_exit 0 "swarm-fetch: downloaded from the swarm and decrypted with the fetched licence"
cmp -s film.bin swarm.bin && pass "the file from the swarm is the published one" || fail "the file from the swarm differs"

run "$build/tools/license-fetch" "$data" --server "$server" --impi bob@ims.test --subscribers subs.csv --output lic2.json
expect_exit 0 "license-fetch: a second download (balance 7)"
run "$build/tools/license-fetch" "$data" --server "$server" --impi bob@ims.test --subscribers subs.csv --output lic3.json
expect_exit 1 "license-fetch: a third download with balance 2 (402)"
expect_stderr_line "payment required: " "license-fetch: 402 message"
finish
