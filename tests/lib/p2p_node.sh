# Starts and stops p2p-node (our registrar) from the test's temporary
# directory. Needs testlib.sh sourced first and $build set.

# p2p_node_start NAME ADDRESS PORT CSV [OPTIONS...]: state in $TEST_TMP/p2p-NAME,
# on the host that owns ADDRESS, ready when it answers OPTIONS. Leaves
# P2P_PID_<NAME> set.
p2p_node_start() {
  local name=$1 address=$2 port=$3 csv=$4
  shift 4
  local dir=$TEST_TMP/p2p-$name
  mkdir -p "$dir"
  spawn "$address" "$build/tools/p2p-node" --listen "$address:$port" --subscribers "$csv" --state-dir "$dir" \
    --domain ims.test "$@" >>"$dir/stdout" 2>>"$dir/stderr"
  printf -v "P2P_PID_$name" '%s' "$SPAWNED"
  if ! wait_for 10 on "$address" sipsak -p "$address:$port" -s "sip:$address:$port" --timer-t1=50; then
    echo "p2p-node $name did not start on $address:$port:" >&2
    tail -5 "$dir/stderr" >&2
    return 1
  fi
}

# p2p_node_stop NAME: SIGTERM, and a bounded wait for it to exit.
p2p_node_stop() {
  local pid_var=P2P_PID_$1
  kill -TERM "${!pid_var}" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "${!pid_var}" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "${!pid_var}" 2>/dev/null || true
}
