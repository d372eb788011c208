#!/usr/bin/env bash
# The flagship scenario's IMS core part across hosts: each host is a Linux
# network namespace, linked by a veth pair to a bridge (tests/lib/netns.sh).
#   127.0.200.11-13  the three core nodes (p2p-node, with the operator's CA)
#   127.0.200.2      alice's UE        127.0.200.3  bob's UE (ims-call answerer)
#   127.0.200.90     the operator's probe
# alice and bob register with IMS AKA, alice calls bob with media and sends
# him a MESSAGE; the probe finds the core healthy; node1 is killed, the call
# is placed again, and the probe finds the core degraded. The links get
# netem delay and loss (20 ms, 1 %) when the kernel has sch_netem; without it,
# 1 % loss from an nftables rule and no delay, and a line says so.
# Needs root (CAP_SYS_ADMIN) for the namespaces: exits 77 (skipped) with the
# reason otherwise. Usage: netns.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
. "$(dirname "$0")/../lib/netns.sh"
if ! why=$(netns_unusable); then
  echo "SKIP: network namespaces are unavailable: $why"
  exit 77
fi
NETEM_DELAY=20ms NETEM_LOSS=1%
. "$(dirname "$0")/../lib/core_steps.sh"
cd "$TEST_TMP"
core_hosts 127.0.200
core_subscribers

hosts_up() {
  netns_up 127.0.200 11 12 13 2 3 90 &&
    # Every host reaches every other through the bridge.
    netns_reachable "$ip_alice" "$ip_bob" "$ip_node1" "$ip_node2" "$ip_node3" "$ip_probe"
}
healthy() { core_testbed_sections >testbed.toml && probe_testbed 0; }
links_degraded() {
  if netns_netem "$NETEM_DELAY" "$NETEM_LOSS"; then
    # 1 % of ~75 packets each way: a few may go.
    RTP_LOSS_ALLOWED=8
    echo "netem on every link: delay $NETEM_DELAY, loss $NETEM_LOSS" >>"$STEP_DETAIL"
  elif netns_nft_loss "${NETEM_LOSS%\%}"; then
    RTP_LOSS_ALLOWED=8
    NFT_LOSS=1
    echo "netem is unavailable on this kernel (no sch_netem): no delay; loss $NETEM_LOSS on every link by an nftables rule instead" >>"$STEP_DETAIL"
  else
    echo "neither netem nor nftables works on this kernel: the links run without delay or loss" >>"$STEP_DETAIL"
  fi
}
# The loss rules really dropped packets (when they are in place).
links_dropped() {
  local dropped
  dropped=$(netns_nft_dropped)
  echo "the nftables loss rules dropped $dropped packets" >>"$STEP_DETAIL"
  [ "$dropped" -gt 0 ]
}

echo "imsp2p across network namespaces: a P2P IMS core and two UEs, one host each"
step "6 hosts (namespaces) on a bridge, 127.0.200.0/24, all reachable" hosts_up
step "delay $NETEM_DELAY and loss $NETEM_LOSS on the links (netem, or nftables for the loss)" links_degraded
[ $steps_failed -eq 0 ] || scenario_verdict
core_steps_calls
step "overlay-probe all: the core is healthy" healthy
core_steps_failover
step "overlay-probe all: the core is degraded (node1 down)" probe_testbed 1
[ -z "${NFT_LOSS:-}" ] || step "the links lost packets on the way" links_dropped
scenario_verdict
