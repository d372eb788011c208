#!/usr/bin/env bash
# Load on the P2P IMS core: registrations, then calls, at each of a list of
# rates, spread over the three nodes; one CSV row per run (attempts,
# successes, achieved rate, latency percentiles, client CPU).
# Hosts: 127.0.106.11-13 the core, .20 the callees' UE, .21-.23 load clients.
# Environment: USERS=300 REG_RATES="100 200" CALL_RATES="10 20" SECONDS_EACH=3
#              CSV=load.csv (written in the current directory)
. "$(dirname "$0")/lib.sh"
users=${USERS:-300}
reg_rates=${REG_RATES:-100 200}
call_rates=${CALL_RATES:-10 20}
seconds_each=${SECONDS_EACH:-3}
csv=$(cd "$OLDPWD" && pwd)/${CSV:-load.csv}

# Digest users u0..uN; callee@ims.test is the one everybody calls.
{
  echo "impi,impus,auth,password"
  for i in $(seq 0 $((users - 1))); do echo "u$i@ims.test,sip:u$i@ims.test,md5,pw-$i"; done
  echo "callee@ims.test,sip:callee@ims.test,md5,callee-pw"
} >subscribers.csv
check "a 3-node core is up" core_up 127.0.106 3
ims-call --listen 127.0.106.20:5070 --answer --media none --json >callee-ue.out 2>callee-ue.err &
check "the callee's UE listens" wait_for 5 grep -q '"event":"listening"' callee-ue.out
check "the callee registers that UE" ims-register --subscribers subscribers.csv --impi callee@ims.test \
  --proxy sip:127.0.106.12 --local 127.0.106.20 --contact sip:callee@127.0.106.20:5070 -q

echo "kind,node,rate_target,attempts,successes,failures,rate_achieved,p50_ms,p99_ms,client_cpu_s_per_1000" >"$csv"
to_csv() { # KIND NODE RATE FILE: the load_summary of FILE as a CSV row
  jq -r --arg kind "$1" --arg node "$2" --arg rate "$3" 'select(.event == "load_summary") |
    [$kind, $node, $rate, .attempts, .successes, .failures, (.rate_achieved // .calls_per_s),
     (.latency_ms // .setup_ms).p50, (.latency_ms // .setup_ms).p99, (.cpu_s_per_1000 // .cpu_s_per_1000_calls)] | @csv' "$4" >>"$csv"
}
for rate in $reg_rates; do
  # A third of the rate through each node, from its own client address.
  for n in 1 2 3; do
    ims-register --subscribers subscribers.csv --proxy "sip:127.0.106.1$n" --local "127.0.106.2$n" \
      --rate "$(((rate + 2) / 3))" --duration "$seconds_each" --expires 600 --json >"reg-$rate-$n.out" 2>"reg-$rate-$n.err" &
  done
  wait_ok=0
  for job in $(jobs -pr | tail -3); do wait "$job" || wait_ok=1; done
  for n in 1 2 3; do to_csv register "node$n" "$(((rate + 2) / 3))" "reg-$rate-$n.out"; done
  check "registrations at $rate/s: none failed" test "$wait_ok" -eq 0
done
# u0 calls, answering the core's challenges with its Digest password.
for rate in $call_rates; do
  ims-call --subscribers subscribers.csv --impi u0@ims.test --proxy sip:127.0.106.11 --local 127.0.106.21 --media none --duration 0.5 \
    --rate "$rate" --count $((rate * seconds_each)) --json sip:callee@ims.test >"call-$rate.out" 2>"call-$rate.err" || true
  to_csv call node1 "$rate" "call-$rate.out"
  check "calls at $rate/s: none failed" test "$(event "call-$rate.out" load_summary failures)" = 0
done
column -s, -t "$csv"
echo "CSV written to $csv"
verdict
