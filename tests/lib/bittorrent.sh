# BitTorrent peers for shell tests (source after testlib.sh): a real
# opentracker and a real transmission-daemon, each in $TEST_TMP.

# opentracker_start ADDRESS:PORT: opentracker in whitelist mode (as Debian
# builds it), chrooted to $TEST_TMP/ot, dropping to nobody; PID in OT_PID.
opentracker_start() {
  mkdir -p "$TEST_TMP/ot" && chmod 755 "$TEST_TMP/ot"
  : >"$TEST_TMP/ot/whitelist.txt" && chmod 644 "$TEST_TMP/ot/whitelist.txt"
  printf 'listen.tcp_udp %s\ntracker.rootdir %s\ntracker.user nobody\naccess.whitelist whitelist.txt\n' \
    "$1" "$TEST_TMP/ot" >"$TEST_TMP/ot.conf"
  opentracker -f "$TEST_TMP/ot.conf" >"$TEST_TMP/ot.log" 2>&1 &
  OT_PID=$!
  track $OT_PID
  wait_for 5 bash -c "exec 3<>/dev/tcp/${1%:*}/${1#*:}" && pass "opentracker listens" ||
    fail "opentracker did not start: $(cat "$TEST_TMP/ot.log")"
}

# allow HEX...: whitelists info hashes (v2 ones as their 20-byte truncation, as announced).
allow() {
  local hash
  for hash in "$@"; do echo "${hash:0:40}" >>"$TEST_TMP/ot/whitelist.txt"; done
  kill -HUP $OT_PID
  sleep 0.3
}

# transmission_start ADDRESS: transmission-daemon with peers on ADDRESS:51413
# and RPC on ADDRESS:9091, no DHT, LPD, PEX, uTP, downloading to
# $TEST_TMP/tr/downloads; `remote` runs transmission-remote against it.
transmission_start() {
  TR_ADDRESS=$1
  mkdir -p "$TEST_TMP/tr/config" "$TEST_TMP/tr/downloads"
  cat >"$TEST_TMP/tr/config/settings.json" <<JSON
{"bind-address-ipv4": "$1", "bind-address-ipv6": "::1", "peer-port": 51413,
 "peer-port-random-on-start": false, "port-forwarding-enabled": false,
 "dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
 "rpc-enabled": true, "rpc-bind-address": "$1", "rpc-port": 9091,
 "rpc-authentication-required": false, "rpc-whitelist-enabled": false, "rpc-host-whitelist-enabled": false,
 "download-dir": "$TEST_TMP/tr/downloads", "incomplete-dir-enabled": false, "watch-dir-enabled": false,
 "start-added-torrents": true, "encryption": 0, "blocklist-enabled": false,
 "ratio-limit-enabled": false, "idle-seeding-limit-enabled": false, "speed-limit-up-enabled": false,
 "speed-limit-down-enabled": false, "alt-speed-enabled": false, "message-level": 2}
JSON
  transmission-daemon -f -g "$TEST_TMP/tr/config" >"$TEST_TMP/tr.log" 2>&1 &
  track $!
  wait_for 10 remote -l && pass "transmission-daemon answers RPC" ||
    fail "transmission-daemon did not start: $(tail -5 "$TEST_TMP/tr.log")"
}
remote() { transmission-remote "$TR_ADDRESS:9091" "$@"; }
