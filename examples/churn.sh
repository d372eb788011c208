#!/usr/bin/env bash
# Churn: calls run through node1 of a 5-node core while the other nodes are
# killed (SIGKILL) and restarted at random, one at a time; the callee
# registered through a node that churns. Reports the calls' success ratio;
# the bindings live in the overlay, so it should stay near 100%.
# Hosts: 127.0.107.11-15 the core, .2 the caller, .3 the callee's UE.
# Environment: CALLS=60 RATE=4 MIN_RATIO=90 (percent)
. "$(dirname "$0")/lib.sh"
calls=${CALLS:-60}
rate=${RATE:-4}
min_ratio=${MIN_RATIO:-90}
cat >subscribers.csv <<'CSV'
impi,impus,auth,password
caller@ims.test,sip:caller@ims.test,md5,caller-pw
callee@ims.test,sip:callee@ims.test,md5,callee-pw
CSV
check "a 5-node core is up" core_up 127.0.107 5
ims-call --listen 127.0.107.3:5070 --answer --media none --json >callee-ue.out 2>callee-ue.err &
check "the callee's UE listens" wait_for 5 grep -q '"event":"listening"' callee-ue.out
check "the callee registers through node2" wait_for 15 ims-register --subscribers subscribers.csv --impi callee@ims.test \
  --proxy sip:127.0.107.12 --local 127.0.107.3 --contact sip:callee@127.0.107.3:5070 -q

check "the caller registers through node1" wait_for 15 ims-register --subscribers subscribers.csv --impi caller@ims.test \
  --proxy sip:127.0.107.11 --local 127.0.107.2 -q

# The churn: every 2 s one of node2..node5 dies and comes back 2 s later
# (a bounded number of rounds; it stops when the calls are done, between
# rounds, so that no node is left dead or half started).
churn() {
  local round i
  for round in $(seq 30); do
    sleep 2
    [ -e calls.done ] && return
    i=$((2 + RANDOM % 4))
    kill_node "$i"
    sleep 2
    node_start 127.0.107 "$i" 5 && echo "node$i restarted"
  done
}
churn >churn.log 2>&1 &
churn_pid=$!
ims-call --subscribers subscribers.csv --impi caller@ims.test --proxy sip:127.0.107.11 --local 127.0.107.2 \
  --media none --duration 0.3 --count "$calls" --rate "$rate" --json sip:callee@ims.test >calls.out 2>calls.err || true
touch calls.done
wait "$churn_pid"
echo "churn: $(grep -c killed churn.log) node kill(s), $(grep -c restarted churn.log) restart(s)"
successes=$(event calls.out load_summary successes)
attempts=$(event calls.out load_summary attempts)
ratio=$((100 * ${successes:-0} / ${attempts:-1}))
jq -c 'select(.event == "load_summary") | {attempts, successes, failures_by_status, setup_ms}' calls.out
check "success ratio $ratio% ($successes of $attempts calls) >= $min_ratio%" test "$ratio" -ge "$min_ratio"
verdict
