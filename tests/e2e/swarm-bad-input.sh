#!/usr/bin/env bash
# swarm-publish and swarm-fetch under bad input: each case gets its exit code
# and one precise line on stderr, and leaves no output behind.
# Hosts: 127.0.60.1 a fetcher with no peer to find.
# Usage: swarm-bad-input.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
publish=$build/tools/swarm-publish
fetch=$build/tools/swarm-fetch
cd "$TEST_TMP"
head -c 200000 /dev/urandom >film.bin

# --- swarm-publish ---
run "$publish" missing.bin --out pub
expect_exit 2 "publish: a missing file"
expect_stderr_line "missing.bin: no such file or directory" "publish: missing file message"
: >empty.bin
run "$publish" empty.bin --out pub
expect_exit 2 "publish: an empty file"
expect_stderr_line "empty.bin: empty file: nothing to publish" "publish: empty file message"
mkdir -p emptydir/sub
run "$publish" emptydir --out pub
expect_exit 2 "publish: a directory without files"
expect_stderr_line "emptydir: no files to publish" "publish: empty directory message"
run "$publish" film.bin --out pub --piece-size 1000
expect_exit 2 "publish: a piece size that is no power of two"
expect_stderr_line "--piece-size must be a power of two" "publish: piece size message"
run "$publish" film.bin --out pub --v1-only --v2-only
expect_exit 2 "publish: --v1-only with --v2-only"
expect_stderr_line "exclude each other" "publish: v1/v2 message"
run "$publish" film.bin --out pub --tracker 127.0.60.9:6969
expect_exit 2 "publish: a tracker that is no URL"
expect_stderr_line "invalid --tracker '127.0.60.9:6969'" "publish: tracker message"
run "$publish" film.bin --out pub --no-encrypt --show-key
expect_exit 2 "publish: --no-encrypt with --show-key"
run "$publish" film.bin --out pub --seed
expect_exit 2 "publish: --seed without --listen"
expect_stderr_line "--seed needs --listen" "publish: --seed message"
[ ! -e pub ] && pass "no publish directory after the usage errors" || fail "a publish directory was left behind"

run "$publish" film.bin --out pub --json
expect_exit 0 "publish: a good file"
kid=$(json_field "$OUT_FILE" published kid)
key_file=$(json_field "$OUT_FILE" published key_file)
[ "$(stat -c %a "$key_file")" = 600 ] && pass "the key file has mode 0600" || fail "key file mode $(stat -c %a "$key_file")"
key_hex=$(python3 -c 'import base64,json,sys; k=json.load(open(sys.argv[1]))["keys"][0]["k"]; print(base64.urlsafe_b64decode(k+"==").hex())' "$key_file")
expect_no_match "$OUT_FILE" "$key_hex" "the key is not in the output without --show-key"
expect_no_match "$ERR_FILE" "$key_hex" "the key is not in the diagnostics"
run "$publish" film.bin --out pub
expect_exit 2 "publish: the same publish directory again"
expect_stderr_line "film.bin.torrent: exists" "publish: existing torrent message"

# --- swarm-fetch: sources ---
run "$fetch" nothing.torrent --output out.bin
expect_exit 2 "fetch: a missing source"
expect_stderr_line "nothing.torrent: no such file \(give a magnet link" "fetch: missing source message"
head -c $(($(stat -c %s pub/film.bin.torrent) / 2)) pub/film.bin.torrent >broken.torrent
run "$fetch" broken.torrent --output out.bin --listen 127.0.60.1:0
expect_exit 2 "fetch: a truncated torrent"
expect_stderr_line "broken.torrent: not a valid torrent: " "fetch: truncated torrent message"
head -c 5000 /dev/urandom >garbage.torrent
run "$fetch" garbage.torrent --output out.bin --listen 127.0.60.1:0
expect_exit 2 "fetch: a torrent of random bytes"
expect_stderr_line "garbage.torrent: not a valid torrent: " "fetch: random torrent message"
run "$fetch" "magnet:?xt=urn:btih:zzzz&dn=film" --output out.bin --listen 127.0.60.1:0
expect_exit 2 "fetch: a magnet link with a bad info hash"
expect_stderr_line "invalid magnet link: " "fetch: bad magnet message"
run "$fetch" "magnet:?dn=film" --output out.bin --listen 127.0.60.1:0
expect_exit 2 "fetch: a magnet link without an info hash"
expect_stderr_line "invalid magnet link: " "fetch: magnet without hash message"
run "$fetch" pub/film.bin.torrent --output out.bin --listen 127.0.60.300:0
expect_exit 2 "fetch: a malformed --listen"
run "$fetch" pub/film.bin.torrent --output out.bin --listen 127.0.60.1:0 --peer 127.0.60.2
expect_exit 2 "fetch: --peer without a port"
expect_stderr_line "invalid --peer '127.0.60.2': give ADDRESS:PORT" "fetch: --peer message"
# No peer at all: a bounded wait, exit 3, the state kept for a later run.
run "$fetch" pub/film.bin.torrent --output out.bin --listen 127.0.60.1:0 --timeout 2
expect_exit 3 "fetch: no peer"
expect_stderr_line "no data from the swarm for 2 s" "fetch: no peer message"
[ ! -e out.bin ] && pass "no output without a peer" || fail "output written without a peer"

# --- swarm-fetch: licences and ciphertext ---
enc=pub/data/film.bin.enc
echo '{"keys":[{"kty":"oct","kid":"AAAA","k":"AAAA"}]}' >bad-licence.json
run "$fetch" "$enc" --license bad-licence.json --output out.bin
expect_exit 2 "fetch: a malformed licence"
expect_stderr_line "bad-licence.json: not a Clear Key licence: keys\[0\]: \"kid\" has 3 bytes, not 16" "fetch: malformed licence message"
run "$fetch" "$enc" --output out.bin
expect_exit 2 "fetch: a local encrypted file without a licence"
expect_stderr_line "is encrypted with KID $kid: give --license FILE" "fetch: licence needed message"
head -c 1000 /dev/urandom >other.bin
"$publish" other.bin --out pub-other -q >/dev/null
run "$fetch" "$enc" --license pub-other/other.bin.key --output out.bin
expect_exit 4 "fetch: a licence with the wrong KID"
expect_stderr_line "other.bin.key: no key for KID $kid, which pub/data/film.bin.enc needs" "fetch: wrong KID message"
[ ! -e out.bin ] && pass "nothing written to --output for the wrong KID" || fail "output written with the wrong KID"
# The right KID with a wrong key: the header's key check catches it.
python3 - "$key_file" >wrong-key.json <<'PY'
import json, sys
licence = json.load(open(sys.argv[1]))
licence["keys"][0]["k"] = "AAAAAAAAAAAAAAAAAAAAAA"
print(json.dumps(licence))
PY
run "$fetch" "$enc" --license wrong-key.json --output out.bin
expect_exit 4 "fetch: the right KID with a wrong key"
expect_stderr_line "key check mismatch" "fetch: wrong key message"
[ ! -e out.bin ] && pass "nothing written to --output for a wrong key" || fail "output written with a wrong key"
size=$(stat -c %s "$enc")
head -c $((size - 1000)) "$enc" >truncated.enc
run "$fetch" truncated.enc --license "$key_file" --output out.bin
expect_exit 1 "fetch: a truncated ciphertext"
expect_stderr_line "truncated.enc: truncated ciphertext: $((size - 1000)) of $size bytes" "fetch: truncated message"
[ -z "$(ls -d out.bin out.bin.part* 2>/dev/null)" ] && pass "no partial output of a truncated ciphertext" || fail "partial output left: $(ls out.bin*)"
run "$fetch" "$enc" --license "$key_file" --output out.bin
expect_exit 0 "fetch: decrypt the local file with the right licence"
cmp -s film.bin out.bin && pass "decrypted byte-exact" || fail "decrypted file differs"

# Disk full on output: a 64 KiB tmpfs, where one is allowed (root, no container limits).
mkdir -p small
if mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
  run "$fetch" "$enc" --license "$key_file" --output small/out.bin
  expect_exit 5 "fetch: disk full on output"
  expect_stderr_line "small/out.bin: cannot write: No space left on device \(partial output removed\)" "fetch: disk full message"
  [ -z "$(ls small)" ] && pass "no partial output on a full disk" || fail "left on the full disk: $(ls small)"
  umount small
else
  echo "SKIP: disk full (cannot mount a tmpfs here)"
fi
finish
