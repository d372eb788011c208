# Hosts in Linux network namespaces, for scenarios across hosts on one
# machine: one namespace per host, each joined by a veth link to a bridge in
# a switch namespace. The root namespace is left untouched.
# The hosts keep the tests' 127.0.0.0/8 rule: each host's link carries a
# 127.0.200.x address. The kernel drops 127/8 packets on a non-loopback
# interface as martians unless route_localnet is set, so each namespace sets
# it (all, default and the link); rp_filter is off so a reply from a 127/8
# source is not dropped as spoofed. The link's /24 route is more specific
# than lo's local 127.0.0.0/8, so 127.0.200.x leaves through the link.
# Needs testlib.sh sourced first; fills HOST_NETNS so `on`/`spawn` reach the hosts.
NETNS_PREFIX=imsp2p-$$
NETNS_SWITCH=$NETNS_PREFIX-switch
NETNS_CREATED=()
NETNS_LINKS=()

# netns_unusable: prints why namespaces cannot be made here (not root, no
# `ip netns`, no CAP_SYS_ADMIN) and fails; succeeds silently when they can.
netns_unusable() {
  if [ "$(id -u)" -ne 0 ]; then echo "not run as root"; return 1; fi
  if ! command -v ip >/dev/null; then echo "the ip command (iproute2) is missing"; return 1; fi
  if ! ip netns add "$NETNS_PREFIX-probe" 2>/dev/null; then
    echo "'ip netns add' fails here (no CAP_SYS_ADMIN, e.g. an unprivileged container)"
    return 1
  fi
  ip netns del "$NETNS_PREFIX-probe"
}

# netns_sweep: removes the namespaces of earlier runs whose shell is gone
# (a run killed with SIGKILL cannot clean up), with the processes left in them.
netns_sweep() {
  local netns pid
  for netns in $(ip netns list | awk '{print $1}' | grep -E '^imsp2p-[0-9]+-'); do
    pid=${netns#imsp2p-}
    pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null && continue
    for pid in $(ip netns pids "$netns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$netns" 2>/dev/null || true
  done
}

# netns_add NAME: a host's namespace, taking 127/8 traffic on its links.
netns_add() {
  ip netns add "$1" && NETNS_CREATED+=("$1") &&
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.default.route_localnet=1 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 &&
    ip -n "$1" link set lo up
}

# netns_up NET HOST...: the switch, and a namespace per HOST (a number:
# the host's address is NET.HOST, on a /24) linked to it. Removed at exit.
netns_up() {
  local net=$1 host netns link
  shift
  trap 'cleanup; netns_down' EXIT
  # A signal ends the run through the EXIT trap, so nothing is left behind.
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  netns_sweep
  # The switch is plain layer 2: without route_localnet and ARP there, its
  # bridge cannot answer ARP for the hosts' 127/8 addresses in their place.
  ip netns add "$NETNS_SWITCH" && NETNS_CREATED+=("$NETNS_SWITCH") &&
    ip -n "$NETNS_SWITCH" link add br0 type bridge && ip -n "$NETNS_SWITCH" link set br0 arp off up || return 1
  for host in "$@"; do
    netns=$NETNS_PREFIX-$host
    # Interface names are at most 15 characters: v<pid>h<host> and v<pid>s<host>.
    link=v$$h$host
    netns_add "$netns" &&
      ip link add "$link" netns "$netns" type veth peer name "v$$s$host" netns "$NETNS_SWITCH" &&
      ip -n "$NETNS_SWITCH" link set "v$$s$host" master br0 up &&
      ip netns exec "$netns" sysctl -qw "net.ipv4.conf.$link.route_localnet=1" "net.ipv4.conf.$link.rp_filter=0" &&
      ip -n "$netns" addr add "$net.$host/24" dev "$link" &&
      ip -n "$netns" link set "$link" up || return 1
    NETNS_LINKS+=("$netns $link")
    HOST_NETNS[$net.$host]=$netns
  done
}

# netns_reachable FROM PEER...: a UDP round trip from host FROM to each
# PEER (an echo on port 9 of each). The kernel sends no ICMP "port
# unreachable" nor TCP reset from a 127/8 address on a link, so a closed
# port would prove nothing: the peers listen.
netns_reachable() {
  local from=$1 peer
  shift
  for peer in "$@"; do
    spawn "$peer" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 9))
open(sys.argv[2], "w").close()
s.settimeout(10)
data, source = s.recvfrom(16)
s.sendto(data, source)' "$peer" "$TEST_TMP/echo-$peer.ready"
  done
  for peer in "$@"; do wait_for 10 test -e "$TEST_TMP/echo-$peer.ready" || return 1; done
  on "$from" python3 - "$from" "$@" <<'PY'
import socket, sys
for peer in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 0))
    s.settimeout(0.5)
    for _ in range(10):
        s.sendto(b"echo", (peer, 9))
        try:
            if s.recvfrom(16)[0] == b"echo":
                break
        except socket.timeout:
            pass
    else:
        sys.exit(f"{peer} does not answer {sys.argv[1]}")
PY
}

# netns_netem DELAY LOSS: netem (e.g. 20ms 1%) on what each host sends, so
# every packet between two hosts meets it once. Fails when the kernel has no
# sch_netem.
netns_netem() {
  local entry
  for entry in "${NETNS_LINKS[@]}"; do
    tc -n "${entry% *}" qdisc add dev "${entry#* }" root netem delay "$1" loss "$2" 2>/dev/null || return 1
  done
}

# netns_nft_loss PERCENT: drops PERCENT (a whole number) of what each host
# receives with an nftables rule, the fallback for loss on kernels without
# sch_netem (nftables has no delay). On input, not output: a packet dropped
# on output fails the sender's sendmsg() with EPERM, which no real link does.
# Fails when nft or nf_tables is missing.
netns_nft_loss() {
  local entry
  command -v nft >/dev/null || return 1
  for entry in "${NETNS_LINKS[@]}"; do
    ip netns exec "${entry% *}" nft -f - 2>/dev/null <<EOF || return 1
table inet imsp2p_loss {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "${entry#* }" numgen random mod 100 < $1 counter drop
  }
}
EOF
  done
}

# netns_nft_dropped: how many packets the loss rules dropped on all hosts.
netns_nft_dropped() {
  local entry total=0 n
  for entry in "${NETNS_LINKS[@]}"; do
    n=$(ip netns exec "${entry% *}" nft list table inet imsp2p_loss 2>/dev/null |
      sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

# netns_down: ends what is left in the namespaces, then removes them (a
# host's namespace takes its veth pair with it, the switch its bridge).
netns_down() {
  local netns pid
  for netns in "${NETNS_CREATED[@]}"; do
    for pid in $(ip netns pids "$netns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$netns" 2>/dev/null || true
  done
  NETNS_CREATED=()
}
