# Shell test helpers: a temporary directory, peers stopped by PID on exit,
# and checks on a command's exit code, stdout and stderr.
# Source it; then call `run CMD...` and the expect_* checks; end with `finish`.

set -u
# IMSP2P_TEST_SLOWDOWN: an integer factor on every wait bound below, set by
# the test preset asan, whose binaries run several times slower. It scales
# how long a test waits for something, never what it checks.
SLOWDOWN=${IMSP2P_TEST_SLOWDOWN:-1}
# A `--timeout` for the tools whose 5 s default bounds their wait for an
# answer (ims-register, ims-call), scaled like the wait bounds.
TOOL_TIMEOUT=$((5 * SLOWDOWN))
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/imsp2p-test.XXXXXX")
PASSED=0
FAILED=0
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Bounded wait: 50 × 0.1 s (times the slowdown), then SIGKILL.
    for _ in $(seq $((50 * SLOWDOWN))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ "${KEEP_TMP:-0}" = 1 ] || rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# Remembers a background process to stop at exit.
track() { PIDS+=("$1"); }

# The network namespace of each host address, for scenarios run across
# namespaces (tests/lib/netns.sh fills it); an address not in it is a host
# on this machine's loopback.
declare -A HOST_NETNS=()

# on ADDRESS CMD...: runs CMD on the host that owns ADDRESS.
on() {
  local netns=${HOST_NETNS[$1]:-}
  shift
  if [ -n "$netns" ]; then ip netns exec "$netns" "$@"; else "$@"; fi
}

# spawn ADDRESS CMD...: starts CMD in the background on the host that owns
# ADDRESS and tracks it; $SPAWNED is its PID (ip netns exec execs CMD, so the
# PID is CMD's own and a signal sent to it reaches CMD).
spawn() {
  local netns=${HOST_NETNS[$1]:-}
  shift
  if [ -n "$netns" ]; then ip netns exec "$netns" "$@" & else "$@" & fi
  SPAWNED=$!
  track "$SPAWNED"
}

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

# run CMD...: runs CMD, keeping its exit code in $RC, stdout in $OUT_FILE, stderr in $ERR_FILE.
OUT_FILE=$TEST_TMP/stdout
ERR_FILE=$TEST_TMP/stderr
run() {
  set +e
  "$@" >"$OUT_FILE" 2>"$ERR_FILE"
  RC=$?
  set -e
  LAST_CMD="$*"
}

# expect_exit CODE WHAT
expect_exit() {
  if [ "$RC" -eq "$1" ]; then
    pass "$2 (exit $RC)"
  else
    fail "$2: exit $RC, expected $1; command: $LAST_CMD"
    sed 's/^/  stdout: /' "$OUT_FILE" | head -20
    sed 's/^/  stderr: /' "$ERR_FILE" | head -20
  fi
}

# expect_match FILE REGEX WHAT
expect_match() {
  if grep -Eq -- "$2" "$1"; then pass "$3"; else fail "$3: /$2/ not in $(basename "$1")"; sed 's/^/  | /' "$1" | head -20; fi
}

# expect_no_match FILE REGEX WHAT
expect_no_match() {
  if grep -Eq -- "$2" "$1"; then fail "$3: /$2/ found in $(basename "$1")"; sed 's/^/  | /' "$1" | head -20; else pass "$3"; fi
}

# expect_stderr_line REGEX WHAT: stderr is exactly one line and matches.
expect_stderr_line() {
  local lines
  lines=$(wc -l <"$ERR_FILE")
  if [ "$lines" -eq 1 ] && grep -Eq -- "$1" "$ERR_FILE"; then
    pass "$2: $(cat "$ERR_FILE")"
  else
    fail "$2: stderr should be one line matching /$1/"
    sed 's/^/  stderr: /' "$ERR_FILE" | head -20
  fi
}

# json_field FILE EVENT FIELD: the field of the last EVENT line (jq-free, via python3).
json_field() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
value = None
for line in open(sys.argv[1]):
    event = json.loads(line)
    if event.get("event") == sys.argv[2]:
        value = event.get(sys.argv[3])
print(json.dumps(value) if not isinstance(value, str) else value)
PY
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds or SECONDS
# of wall time (times the slowdown) have passed (time, not tries: a slow CMD
# on a loaded machine must not stretch the wait). CMD runs at least once.
wait_for() {
  # microseconds from bash's EPOCHREALTIME (SECONDS ticks whole seconds)
  local deadline=$((${EPOCHREALTIME/./} + $1 * SLOWDOWN * 1000000))
  shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# blackhole ADDRESS PORT: a UDP peer that reads and never answers (stops
# by itself after 60 s without traffic).
blackhole() {
  local ready=$TEST_TMP/blackhole-$1-$2.ready
  python3 - "$1" "$2" "$ready" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
s.settimeout(60)
try:
    while True:
        s.recv(65535)
except socket.timeout:
    pass
PY
  track $!
  # The interpreter can take a few hundred ms to start: wait for the bind.
  wait_for 5 test -e "$ready" || fail "blackhole on $1:$2 did not start"
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
