#!/usr/bin/env bash
# Probing a deployment the way its monitoring would: a testbed file lists the
# overlay, the SIP nodes and the licence server; overlay-probe all checks them
# at once (a table, JSON, Nagios, Prometheus); a killed node turns the
# verdict from OK to WARNING/CRITICAL.
# Hosts: 127.0.105.11-13 the core, .40 the licence server, .90 the probe.
. "$(dirname "$0")/lib.sh"
subscribers
check "a 3-node core is up" core_up 127.0.105 3
license-server --listen 127.0.105.40:8080 --state-dir drm --subscribers subscribers.csv --domain ims.test --json \
  >drm.out 2>drm.err &
check "the licence server is up" wait_for 10 grep -q '"event":"listening"' drm.out
check "bob registers" register bob 127.0.105.3 127.0.105.13
cat >testbed.toml <<TOML
[dht.core]
bootstrap = ["127.0.105.11:4222", "127.0.105.12:4222", "127.0.105.13:4222"]
network-id = $((0x494d53))
bind = "127.0.105.90"

[sip.core]
uri = ["sip:127.0.105.11:5060", "sip:127.0.105.12:5060", "sip:127.0.105.13:5060"]
local = "127.0.105.90"
resolve = "sip:bob@ims.test"
overlay = ["127.0.105.12:4222"]
overlay-network-id = $((0x494d53))
overlay-key = "ca/overlay.key"

[license.drm]
url = "http://127.0.105.40:8080/"
TOML
check "the testbed is healthy" overlay-probe all --testbed testbed.toml
overlay-probe all --testbed testbed.toml --json | jq -c 'select(.event == "probe") | {name, probe, status, summary}'
kill_node 1
rc=0
overlay-probe all --testbed testbed.toml --nagios || rc=$?
check "with node1 killed the Nagios verdict is WARNING or CRITICAL (exit $rc)" test "$rc" -eq 1 -o "$rc" -eq 2
overlay-probe all --testbed testbed.toml --prometheus | grep -E '^overlay_probe_(up|status)'
verdict
