#!/usr/bin/env bash
# Disk full for the state directory, on a small tmpfs (needs root: skipped,
# exit 77, otherwise). license-server: a grant on a full disk is refused
# with 503 charging_unavailable, nothing charged, no key sent, the server
# keeps serving; a key deposit gets 503 storage_unavailable; once space is
# freed the same request id is granted and charged once; the databases pass
# SQLite's integrity check and a restart works; starting on a full disk
# fails with exit 5 and one precise line.
# p2p-node: an AKA challenge needs a new SQN committed: on a full disk the
# REGISTER gets 500 and the node keeps serving Digest users; the node cache
# write fails with a warning; space freed, AKA registers again; a restart
# keeps the node id; starting on a full disk fails with exit 5 and one line.
# swarm-fetch: a download that fills the disk exits 5 with one line; the
# same command completes, byte-exact, once there is room.
# Hosts: 127.0.212.1 the licence server (8080), .2 the core node, .3 the UE,
# .4 a second core node (its state on the real disk), .5 a seeder, .6 a fetcher.
# Usage: state-disk-full.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/license.sh"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: disk full needs root to mount a tmpfs"
  exit 77
fi
cd "$TEST_TMP"
mkdir small
if ! mount -t tmpfs -o size=4m tmpfs small 2>mount.err; then
  echo "SKIP: cannot mount a tmpfs here: $(cat mount.err)"
  exit 77
fi
# The tmpfs goes once every process that may hold it open is stopped.
on_exit() {
  local keep=${KEEP_TMP:-0}
  KEEP_TMP=1 cleanup
  umount "$TEST_TMP/small" 2>/dev/null || umount -l "$TEST_TMP/small" 2>/dev/null || true
  [ "$keep" = 1 ] || rm -rf "$TEST_TMP"
}
trap on_exit EXIT
# fill: writes zeros until the tmpfs is full (bounded by its size).
fill() { dd if=/dev/zero of=small/fill bs=4k 2>/dev/null || true; }
unfill() { rm -f small/fill; }
fetch=$build/tools/license-fetch
server=http://127.0.212.1:8080
license_subscribers subs.csv
kid=b0b1b2b3b4b5b6b7b8b9babbbcbdbebf
key=$(python3 -c 'import base64; print(base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("="))')
mkdir small/ls && ln -s small/ls ls # the state on the tmpfs, the server's output beside it on the real disk
cdr_count() { license_cdr_count ls; }
balance() { license_balance ls alice@ims.test; }
grant() { "$fetch" --kid $kid --server $server --impi alice@ims.test --subscribers subs.csv --output "$1.json" --request-id "$1" --timeout 5; }

# --- license-server ---
license_start ls 127.0.212.1:8080 subs.csv
license_admin ls publisher carol@ims.test
license_admin ls credit alice@ims.test 1000
status=$(http_status put.body --digest -u carol@ims.test:carol-secret -X PUT \
  --data "{\"k\":\"$key\",\"policy\":\"pay-per-download\",\"price\":10}" "$server/keys/$kid")
[ "$status" = 201 ] && pass "a pay-per-download key deposited" || fail "deposit: $status $(cat put.body)"
run grant ok-1
expect_exit 0 "a licence granted with space left"

fill
echo "info: the tmpfs is full: $(df -k small | awk 'NR==2 {print $3 " KiB used, " $4 " KiB free"}')"
status=$(http_status full.body --digest -u alice@ims.test:alice-secret -H 'Request-Id: full-1' \
  --data "{\"kids\":[\"$(python3 -c "import base64,binascii; print(base64.urlsafe_b64encode(binascii.unhexlify('$kid')).decode().rstrip('='))")\"],\"type\":\"temporary\"}" \
  "$server/license")
[ "$status" = 503 ] && pass "a grant on a full disk: 503" || fail "a grant on a full disk: $status $(cat full.body)"
expect_match full.body '"error":"charging_unavailable"' "its body says charging_unavailable, nothing charged"
expect_no_match full.body '"k":' "no key in the refusal"
run grant full-2
expect_exit 1 "license-fetch on a full disk: the server refused"
expect_match "$ERR_FILE" "503" "license-fetch names the 503"
[ ! -e full-2.json ] && pass "license-fetch wrote no licence" || fail "a licence was written on a full disk"
expect_match ls.err "charging transaction failed, 1 grant\(s\) refused: .*(database or disk is full|disk I/O error)" \
  "the server logs why the grant was refused"
kill -0 "$LICENSE_PID" 2>/dev/null && pass "the server still runs on a full disk" || fail "the server died on a full disk"
status=$(http_status put2.body --digest -u carol@ims.test:carol-secret -X PUT \
  --data "{\"k\":\"$key\",\"policy\":\"free\"}" "$server/keys/c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")
[ "$status" = 503 ] && pass "a key deposit on a full disk: 503" || fail "a key deposit on a full disk: $status $(cat put2.body)"
expect_match put2.body '"error":"storage_unavailable"' "its body says storage_unavailable"

unfill
run grant full-2
expect_exit 0 "space freed: the refused request id is granted"
expect_match full-2.json "\"k\":\"$key\"" "the licence holds the key"
run grant full-2
expect_exit 0 "the same request id again (a retry)"
kill -TERM "$LICENSE_PID"
wait "$LICENSE_PID" && pass "the server exits 0 on SIGTERM after the full disk" || fail "the server exited $? on SIGTERM"
[ "$(cdr_count)" = 2 ] && pass "2 CDRs: none for the refused grants, one for the retried id" || fail "$(cdr_count) CDRs, expected 2"
[ "$(balance)" = 980 ] && pass "balance 980: charged twice, never for a refusal" || fail "balance $(balance), expected 980"
for db in small/ls/*.sqlite; do
  integrity=$(sqlite3 "$db" 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ')
  [ "$integrity" = "ok " ] && pass "$(basename "$db") passes SQLite's integrity check" || fail "$db: integrity check: $integrity"
done
license_start ls 127.0.212.1:8080 subs.csv && pass "the server restarts on its state" || true
run grant ok-1
expect_exit 0 "after the restart, the first request id is granted again"
[ "$(cdr_count)" = 2 ] && pass "without a new charge" || fail "$(cdr_count) CDRs after the restart"
kill -TERM "$LICENSE_PID"
wait "$LICENSE_PID" || true

fill
run "$build/tools/license-server" --listen 127.0.212.1:8080 --state-dir small/ls-new --subscribers subs.csv --domain ims.test
expect_exit 5 "license-server started on a full disk"
expect_stderr_line "small/ls-new.*(database or disk is full|No space left on device)" "one line says the disk is full"
unfill
rm -rf small/ls-new

# --- p2p-node ---
cat >node.csv <<CSV
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
bob@ims.test,sip:bob@ims.test,md5,bob-secret,,,,,
CSV
"$build/tools/p2p-node" ca init --dir ca >/dev/null
"$build/tools/p2p-node" ca issue n1 --dir ca >/dev/null
"$build/tools/p2p-node" ca issue n2 --dir ca >/dev/null
# n2, with its state on the real disk, keeps n1's overlay company.
spawn 127.0.212.4 "$build/tools/p2p-node" --listen 127.0.212.4:5060 --subscribers node.csv --state-dir n2 \
  --domain ims.test --json --dht 127.0.212.4 --credentials ca --node-name n2 >n2.out 2>n2.err
node_start() {
  spawn 127.0.212.2 "$build/tools/p2p-node" --listen 127.0.212.2:5060 --subscribers node.csv --state-dir small/node \
    --domain ims.test --json --dht 127.0.212.2 --credentials ca --node-name n1 --bootstrap 127.0.212.4:4222 >>node.out 2>>node.err
  NODE_PID=$SPAWNED
  wait_for 10 sipsak -p 127.0.212.2:5060 -s sip:127.0.212.2:5060 --timer-t1=50
}
node_start && pass "p2p-node runs with its state on the tmpfs" || fail "p2p-node did not start: $(tail -3 node.err)"
node_id=$(json_field node.out joined node_id)
reg() { "$build/tools/ims-register" --subscribers node.csv --proxy sip:127.0.212.2 --local 127.0.212.3 --timeout 3 "$@"; }
# The overlay settles within seconds: bob's first registration is retried until it does.
wait_for 20 reg --impi bob@ims.test && pass "bob registers once the overlay settled" || fail "the overlay never settled"
run reg --impi alice@ims.test --usim-state alice.usim
expect_exit 0 "alice registers with AKA (a new SQN committed)"
sleep 6 # the node cache's first write, due 5 s after the start
fill
run reg --impi alice@ims.test --usim-state alice.usim
expect_exit 1 "alice on a full disk: no SQN can be committed, the node refuses"
expect_match "$ERR_FILE" "500" "ims-register names the 500"
expect_match node.err "REGISTER from .*(database or disk is full|disk I/O error)" "the node logs why"
run reg --impi bob@ims.test
expect_exit 0 "bob (Digest, nothing to write) still registers on a full disk"
kill -0 "$NODE_PID" 2>/dev/null && pass "the node still runs on a full disk" || fail "the node died on a full disk"
# SIGTERM writes the node cache once more: on a full disk, a warning, the old cache kept.
kill -TERM "$NODE_PID"
wait "$NODE_PID" && pass "the node exits 0 on SIGTERM on a full disk" || fail "the node exited $? on SIGTERM on a full disk"
expect_match node.err "small/node/dht/nodes: cannot write: No space left on device" "the node cache write failed with a warning"
unfill
integrity=$(sqlite3 small/node/hss.sqlite 'PRAGMA integrity_check' 2>&1 | sort -u | tr '\n' ' ')
[ "$integrity" = "ok " ] && pass "the subscriber database passes SQLite's integrity check" || fail "integrity check: $integrity"
node_start && pass "the node restarts on its state" || fail "the node did not restart: $(tail -3 node.err)"
[ "$(json_field node.out joined node_id)" = "$node_id" ] && pass "with the same node id" || fail "node id changed"
wait_for 20 reg --impi bob@ims.test || fail "bob could not register after the restart"
run reg --impi alice@ims.test --usim-state alice.usim
expect_exit 0 "space freed, after the restart: alice registers with AKA (SQN fresh)"
expect_no_match node.out '"event":"resync"' "no SQN handed out twice (the USIM never asked to resynchronise)"
kill -TERM "$NODE_PID"
wait "$NODE_PID" || true

fill
run "$build/tools/p2p-node" --listen 127.0.212.2:5060 --subscribers node.csv --state-dir small/node-new --domain ims.test
expect_exit 5 "p2p-node started on a full disk"
expect_stderr_line "small/node-new.*(database or disk is full|No space left on device)" "one line says the disk is full"
unfill

# --- swarm-fetch: an 8 MB download into the 4 MiB tmpfs, then into a larger one ---
head -c 8000000 /dev/urandom >film.bin
"$build/tools/swarm-publish" film.bin --out pub --listen 127.0.212.5:6881 --seed --json >seed.out 2>seed.err &
track $!
wait_for 20 grep -q '"event":"seeding"' seed.out || fail "the seeder did not start: $(cat seed.err)"
swarm_fetch() {
  run "$build/tools/swarm-fetch" pub/film.bin.torrent --peer 127.0.212.5:6881 --listen 127.0.212.6:6881 \
    --license pub/film.bin.key --output small/film.bin --timeout 20 --json
}
swarm_fetch
expect_exit 5 "swarm-fetch: the download fills the disk"
expect_stderr_line "download failed: film.bin.enc file_write \(.*small/film.bin.swarm/data/film.bin.enc\) error: No space left on device" \
  "one line says where and why"
[ ! -e small/film.bin ] && pass "no output written" || fail "small/film.bin written on a full disk"
mount -o remount,size=24m small
swarm_fetch
expect_exit 0 "the same command once the tmpfs has room"
cmp -s film.bin small/film.bin && pass "byte-exact after the full disk" || fail "the file differs after the full disk"
echo "info: the second run downloaded $(json_field "$OUT_FILE" fetched downloaded_bytes) of 8000064 bytes"
finish
