#!/usr/bin/env bash
# No registration lost once acknowledged: four core nodes on the managed
# overlay take a registration storm (200 tracked registrations, one
# ims-register each, from 8 parallel clients, every fourth through each
# node; beside them an ims-register load through --core-overlay); n2 is
# SIGKILLed mid-storm. Afterwards every registration that got its 200 OK,
# through n2 before the kill included, resolves through every surviving
# node: a MESSAGE to each reaches the user's contact. Registrations that
# failed because n2 died are fine; the counts are reported.
# Hosts: 127.0.210.1-4 nodes (SIP 5060, DHT 4222), .10 the users' contact
# (port 5070), .11 the resolver, .20-.27 the tracked clients, .30 the load
# client. Usage: core-kill-storm.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/p2p_node.sh"
. "$(dirname "$0")/../lib/overlay.sh"
reg=$build/tools/ims-register
resolve=$(cd "$(dirname "$0")/../lib" && pwd)/sip_resolve.py
cd "$TEST_TMP"
tracked=200
workers=8
users_csv users.csv 504
victim=127.0.210.2

overlay_ca n1 n2 n3 n4
overlay_node_start n1 127.0.210.1 users.csv -- --load-interval 1
overlay_node_start n2 127.0.210.2 users.csv 127.0.210.1:4222 -- --load-interval 1
overlay_node_start n3 127.0.210.3 users.csv 127.0.210.1:4222 127.0.210.2:4222 -- --load-interval 1
overlay_node_start n4 127.0.210.4 users.csv 127.0.210.1:4222 127.0.210.2:4222 127.0.210.3:4222 -- --load-interval 1

# register USER NODE LOCAL: one registration; its contact is the resolver's UAS.
register() {
  "$reg" --subscribers users.csv --impi "$1@ims.test" --proxy "sip:$2" --local "$3" \
    --contact "sip:$1@127.0.210.10:5070" --expires 600 --timeout 2 --json
}
# The overlay has settled when a registration through each node answers
# within a second and resolves through another node.
settled() {
  local n
  for n in 1 2 3 4; do register u50$n 127.0.210.$n 127.0.210.20 >/dev/null 2>&1 || return 1; done
  printf 'u501\nu502\nu503\nu504\n' >settle.users
  python3 "$resolve" 127.0.210.11 127.0.210.10:5070 127.0.210.3:5060 settle.users --deadline 2 >/dev/null
}
wait_for 60 settled && pass "the four-node core settled (registrations through each node resolve through n3)" ||
  fail "the core never settled"

# worker W: registers users W+1, W+1+workers, ... in turn, each through
# node (I mod 4)+1; one line "USER NODE EXIT" per registration.
worker() {
  local w=$1 i node rc
  for ((i = w + 1; i <= tracked; i += workers)); do
    node=127.0.210.$((i % 4 + 1))
    rc=0
    register "u$i" "$node" "127.0.210.$((20 + w))" >"reg-u$i.json" 2>"reg-u$i.err" || rc=$?
    echo "u$i $node $rc" >>"worker-$w.log"
  done
}
acked_count() { cat worker-*.log 2>/dev/null | awk '$3 == 0' | wc -l; }

# The untracked load: users 301-500 through --core-overlay at 30/s, moving
# off a dead node (it may fail some: only the tracked ones count).
{ head -1 users.csv && sed -n '302,501p' users.csv; } >load.csv
"$reg" --subscribers load.csv --core-overlay 127.0.210.1:4222 \
  --core-ca ca/ca.crt --local 127.0.210.30 --rate 30 --duration 15 --timeout 2 --core-attempts 4 --json \
  >load.json 2>load.err &
load_pid=$!
track $load_pid
worker_pids=()
for ((w = 0; w < workers; w++)); do
  worker $w &
  worker_pids+=($!)
  track $!
done

# SIGKILL n2 once a third of the tracked registrations are acknowledged.
wait_for 60 sh -c "[ \$(cat worker-*.log 2>/dev/null | awk '\$3 == 0' | wc -l) -ge $((tracked / 3)) ]" ||
  fail "the storm did not get a third of its registrations through in 60 s"
acked_at_kill=$(acked_count)
kill -9 "$P2P_PID_n2"
wait "$P2P_PID_n2" 2>/dev/null || true
echo "info: n2 SIGKILLed with $acked_at_kill of $tracked tracked registrations acknowledged"
for pid in "${worker_pids[@]}"; do wait "$pid" || true; done
set +e; wait $load_pid; load_rc=$?; set -e

cat worker-*.log | sort -V >results.log
[ "$(wc -l <results.log)" -eq $tracked ] && pass "all $tracked tracked registrations were attempted" ||
  fail "$(wc -l <results.log) of $tracked tracked registrations attempted"
awk '$3 == 0 {print $1}' results.log >acked.users
acked=$(wc -l <acked.users)
acked_victim=$(awk -v v="$victim" '$3 == 0 && $2 == v' results.log | wc -l)
failed=$(awk '$3 != 0' results.log | wc -l)
failed_victim=$(awk -v v="$victim" '$3 != 0 && $2 == v' results.log | wc -l)
echo "info: tracked: $acked acknowledged ($acked_victim through n2 before it died), $failed failed ($failed_victim through n2)"
[ "$failed" -eq "$failed_victim" ] && pass "only registrations sent to the dead n2 failed ($failed)" ||
  { fail "$((failed - failed_victim)) registrations through live nodes failed"; awk -v v="$victim" '$3 != 0 && $2 != v' results.log | head -5; }
[ "$acked_victim" -gt 0 ] && pass "n2 acknowledged $acked_victim registrations before it died" ||
  fail "n2 acknowledged nothing before the kill: the test proves too little"
# Every acknowledged registration said so in its JSON output.
missing=0
while read -r user; do grep -q '"event":"registered"' "reg-$user.json" || missing=$((missing + 1)); done <acked.users
[ "$missing" -eq 0 ] && pass "each acknowledged registration printed its registered event" || fail "$missing without a registered event"
python3 - load.json <<'PY' || true
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"load_summary"' in l]
if s:
    s = s[-1]
    print(f"info: load beside it: {s['successes']} ok, {s['failures']} failed, {s['moved']} moved to another node")
PY
[ "$load_rc" -le 1 ] && pass "the load through --core-overlay ran to its end (exit $load_rc)" || fail "the load exited $load_rc"

# Every acknowledged registration resolves through every survivor (the
# overlay gets 10 s to re-replicate, as in the no-SPOF test).
for n in 1 3 4; do
  python3 "$resolve" 127.0.210.11 127.0.210.10:5070 127.0.210.$n:5060 acked.users --deadline 10 >"resolve-n$n.json" || true
  read -r resolved lost misrouted < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["resolved"], len(r["unresolved"]), r["misrouted"])' "resolve-n$n.json")
  if [ "$lost" -eq 0 ] && [ "$misrouted" -eq 0 ] && [ "$resolved" -eq "$acked" ]; then
    pass "through n$n: all $acked acknowledged registrations resolve to their contact"
  else
    fail "through n$n: $resolved of $acked resolve, $lost lost, $misrouted misrouted: $(cat "resolve-n$n.json")"
  fi
done
finish
