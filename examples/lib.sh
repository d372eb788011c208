# Shared set-up of the example scenarios (sourced): finds the tools, works in
# a scratch directory, stops every process it started on exit, and starts a
# P2P IMS core the way an operator would: CA, certificates, nodes.
set -eu
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The tools: $IMSP2P_BIN, else this checkout's release build, else $PATH.
if [ -n "${IMSP2P_BIN:-}" ]; then
  PATH=$IMSP2P_BIN:$PATH
elif [ -x "$examples/../build/release/tools/p2p-node" ]; then
  PATH=$examples/../build/release/tools:$PATH
fi
for tool in p2p-node ims-register ims-call jq; do
  command -v "$tool" >/dev/null || { echo "$(basename "$0"): $tool not found (set IMSP2P_BIN, or build first)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/imsp2p-$(basename "$0" .sh).XXXXXX")
cd "$work"
failures=0
stop_all() {
  local pids
  pids="$(jobs -pr) $(cat "$work/node.pids" 2>/dev/null || true)"
  kill $pids 2>/dev/null || true
  # Bounded: a process still there 5 s after SIGTERM is killed, and said so
  # (a node left behind would hold its addresses for the next test).
  for pid in $pids; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$(basename "$0"): $(ps -o args= -p "$pid" | cut -c1-60) (pid $pid) did not stop within 5 s of SIGTERM: killed" >&2
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ] || [ "$failures" -gt 0 ]; then echo "files kept in $work" >&2; else rm -rf "$work"; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# check TEXT COMMAND...: runs COMMAND, prints "ok: TEXT" or "FAILED: TEXT".
check() {
  local text=$1
  shift
  if "$@"; then echo "ok: $text"; else echo "FAILED: $text"; failures=$((failures + 1)); fi
}
# verdict: the last line, and the exit status (0 only if every check held).
verdict() {
  if [ "$failures" -eq 0 ]; then echo "$(basename "$0" .sh): PASS"; else echo "$(basename "$0" .sh): FAIL ($failures)"; exit 1; fi
}
# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS.
wait_for() {
  local until=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$until" ] || return 1
    sleep 0.2
  done
}
# event FILE EVENT FIELD: FIELD of the last EVENT in a JSON Lines FILE.
event() { jq -r --arg e "$2" "select(.event == \$e) | .$3" "$1" | tail -1; }

# The example users: alice and bob authenticate with IMS AKA (their USIM
# state is kept in NAME.usim), the provider with a Digest password.
subscribers() {
  cat >subscribers.csv <<'CSV'
impi,impus,auth,password,k,op,opc,amf,sqn
alice@ims.test,sip:alice@ims.test;tel:+15550100,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,cdc202d5123e20f62b6d676ac72cb318,,8000,000000000020
bob@ims.test,sip:bob@ims.test;tel:+15550101,aka,,fec86ba6eb707ed08905757b1bb44b8f,dbc59adcb6f9a0ef735477b7fadf8374,,8000,000000000040
provider@ims.test,sip:provider@ims.test,md5,provider-secret,,,,,
CSV
}

# node_start PREFIX I N: core node I of N on PREFIX.(10+I) (SIP 5060, DHT
# 4222), told of all the others (down ones are retried by the DHT); state in
# nodeI/ (a restart keeps its node id), events in nodeI.out.
node_start() {
  local prefix=$1 i=$2 n=$3 boot=() j
  for j in $(seq "$n"); do [ "$j" != "$i" ] && boot+=(--bootstrap "$prefix.$((10 + j)):4222"); done
  p2p-node --listen "$prefix.$((10 + i))" --dht "$prefix.$((10 + i))" --credentials ca --node-name "node$i" \
    --subscribers subscribers.csv --domain ims.test --state-dir "node$i" --ind "$i" --json "${boot[@]}" \
    >>"node$i.out" 2>>"node$i.err" &
  printf -v "node${i}_pid" '%s' $!
  # Out of the shell's job table, so that killing it is not reported as a
  # job's death; node.pids lets the exit clean-up find it (and restarts made
  # in a subshell).
  echo $! >>"$work/node.pids"
  disown $!
  wait_for 10 grep -q '"event":"listening"' "node$i.out"
}
# core_up PREFIX N: the operator's CA (ca/), a certificate per node, N nodes.
core_up() {
  local prefix=$1 n=$2 i
  p2p-node ca init --dir ca >/dev/null
  for i in $(seq "$n"); do p2p-node ca issue "node$i" --dir ca >/dev/null; done
  for i in $(seq "$n"); do node_start "$prefix" "$i" "$n" || { echo "node$i did not start:" >&2; tail -3 "node$i.err" >&2; return 1; }; done
}
# register WHO ADDRESS NODE_ADDRESS [OPTIONS...]: WHO registers with AKA through
# the node; ims-register's JSON (for ims-call --registration) in WHO.json.
# Retried for a few seconds: a new overlay needs a moment to settle.
register() {
  local who=$1 address=$2 node=$3 until=$((SECONDS + 15))
  shift 3
  until ims-register --subscribers subscribers.csv --impi "$who@ims.test" --usim-state "$who.usim" \
    --local "$address" --proxy "sip:$node" --json "$@" >"$who.json" 2>"$who.err"; do
    [ "$SECONDS" -lt "$until" ] || { cat "$who.err" >&2; return 1; }
    sleep 0.5
  done
}
# kill_node I: core node I dies (SIGKILL), as in a crash.
kill_node() {
  local pid_var=node$1_pid
  kill -9 "${!pid_var}" 2>/dev/null || true
  echo "node$1 killed (SIGKILL)"
}
