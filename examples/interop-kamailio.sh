#!/usr/bin/env bash
# Interop with Kamailio, as at a plugtest: a real Kamailio (registrar and
# record-routing proxy, Digest against SQLite) serves the UE tools: bob's
# UE registers and answers, alice registers, sends him a MESSAGE and calls
# him with media; the core's challenges (401/407) are answered as they come.
# Hosts: 127.0.108.1 Kamailio, .2 alice, .3 bob.
. "$(dirname "$0")/lib.sh"
command -v kamailio >/dev/null || { echo "interop-kamailio: kamailio not found (scripts/setup installs it)" >&2; exit 2; }
cat >subscribers.csv <<'CSV'
impi,impus,auth,password
alice,sip:alice@ims.test,md5,alice-secret
bob,sip:bob@ims.test,md5,bob-secret
CSV
# Kamailio with the test suite's configuration and its users in SQLite.
mkdir kamailio
sqlite3 kamailio/db.sqlite </usr/share/kamailio/db_sqlite/standard-create.sql
sqlite3 kamailio/db.sqlite </usr/share/kamailio/db_sqlite/auth_db-create.sql
sqlite3 kamailio/db.sqlite "insert into subscriber(username, domain, password) values
  ('alice', 'ims.test', 'alice-secret'), ('bob', 'ims.test', 'bob-secret');"
sed -e "s|@ADDR@|127.0.108.1|g; s|@PORT@|5060|g; s|@DB@|$work/kamailio/db.sqlite|g; s|@RUNDIR@|$work/kamailio|g" \
  -e "s|@ALGORITHM@|MD5|g; s|@DEBUG@|1|g; s|@CHILDREN@|2|g; s|@REGISTRAR@||g" \
  "$examples/../tests/interop/ims-call-kamailio.cfg.in" >kamailio/kamailio.cfg
kamailio -f "$work/kamailio/kamailio.cfg" -DD -E -Y "$work/kamailio" -P "$work/kamailio/kamailio.pid" -m 64 -M 16 >kamailio/log 2>&1 &
check "Kamailio answers OPTIONS" wait_for 10 overlay-probe sip sip:127.0.108.1:5060 --count 1 -q

ims-call --listen 127.0.108.3:5070 --answer --json >bob-ue.out 2>bob-ue.err &
check "bob's UE listens" wait_for 5 grep -q '"event":"listening"' bob-ue.out
check "bob registers that UE with Kamailio" ims-register --subscribers subscribers.csv --impi bob --impu sip:bob@ims.test \
  --proxy sip:127.0.108.1 --local 127.0.108.3 --contact sip:bob@127.0.108.3:5070 -q
check "alice registers with Kamailio" sh -c 'ims-register --subscribers subscribers.csv --impi alice --impu sip:alice@ims.test \
  --proxy sip:127.0.108.1 --local 127.0.108.2 --json >alice.json'
check "alice sends bob a MESSAGE (407 answered)" ims-call --registration alice.json --subscribers subscribers.csv \
  --message "hello bob" sip:bob@ims.test
check "bob got it" wait_for 3 grep -q '"event":"message".*"text":"hello bob"' bob-ue.out
check "alice calls bob through Kamailio" sh -c 'ims-call --registration alice.json --subscribers subscribers.csv \
  --duration 1.5 --json sip:bob@ims.test >alice-call.out'
jq -r 'select(.event == "call") | "alice: status \(.status), setup \(.setup_ms) ms, RTP received \(.media.packets_received), lost \(.media.packets_lost)"' alice-call.out
check "RTP flowed both ways" test "$(event alice-call.out call media.packets_received)" -ge 50
verdict
