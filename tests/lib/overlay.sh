# A p2p-node core on the managed overlay, for tests: the operator's CA, and
# nodes that each bootstrap from up to three nodes started before them.
# Needs testlib.sh and p2p_node.sh sourced first.

# overlay_ca NAME...: a CA in $TEST_TMP/ca and a credential for each NAME.
overlay_ca() {
  "$build/tools/p2p-node" ca init --dir "$TEST_TMP/ca" >/dev/null
  local name
  for name in "$@"; do "$build/tools/p2p-node" ca issue "$name" --dir "$TEST_TMP/ca" >/dev/null; done
}

# overlay_node_start NAME ADDRESS CSV [BOOTSTRAP...] [-- OPTIONS...]: SIP on
# ADDRESS:5060, the DHT on ADDRESS:4222, JSON events in $TEST_TMP/p2p-NAME/stdout.
overlay_node_start() {
  local name=$1 address=$2 csv=$3
  shift 3
  local args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--bootstrap "$1"); shift; done
  [ "${1:-}" = -- ] && shift
  p2p_node_start "$name" "$address" 5060 "$csv" --json --dht "$address" --credentials "$TEST_TMP/ca" \
    --node-name "$name" "${args[@]}" "$@"
}

# users_csv FILE N: a subscriber CSV of N Digest users uI@ims.test (password pw-I).
users_csv() {
  {
    echo "impi,impus,auth,password"
    for i in $(seq 1 "$2"); do echo "u$i@ims.test,sip:u$i@ims.test,md5,pw-$i"; done
  } >"$1"
}
