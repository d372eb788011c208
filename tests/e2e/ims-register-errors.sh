#!/usr/bin/env bash
# Every bad input to ims-register gets one precise line on stderr and its
# documented exit code. Hosts: 127.0.12.1 (local binds), .98 a silent peer.
# Usage: ims-register-errors.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
reg=$build/tools/ims-register
csv=$TEST_TMP/subscribers.csv
printf 'impi,impus,auth,password,k,op,opc,amf,sqn\nalice@ims.test,sip:alice@ims.test,md5,pw,,,,,\n' >"$csv"

run "$reg" --impu alice@ims.test --password pw --proxy sip:127.0.12.98
expect_exit 2 "IMPU without a scheme"
expect_stderr_line "invalid SIP URI 'alice@ims.test' for --impu: scheme must be sip: or sips:" "malformed IMPU message"

run "$reg" --impu sip:alice@ims.test --password pw --proxy 'sip:127.0.12.98:99999'
expect_exit 2 "proxy with a bad port"
expect_stderr_line "invalid SIP URI 'sip:127.0.12.98:99999' for --proxy: invalid port '99999'" "malformed proxy message"

run "$reg" --impu sip:ims.test --password pw
expect_exit 2 "IMPU without a user part"
expect_stderr_line "for --impu: no user part" "IMPU without user message"

run "$reg" --impu sip:alice@ims.test --proxy sip:127.0.12.98
expect_exit 2 "missing password"
expect_stderr_line "missing credentials: give --impu URI and --password, --impu URI and --k/--op, or --subscribers FILE --impi ID" "missing credentials message"

run "$reg" --proxy sip:127.0.12.98
expect_exit 2 "no identity at all"
expect_stderr_line "missing credentials" "no identity message"

# AKA credentials given as flags.
k=465b5ce8b199b49faa5f0a2ee238a6bc
run "$reg" --impu sip:alice@ims.test --k $k
expect_exit 2 "--k without --op or --opc"
expect_stderr_line "--k needs exactly one of --op and --opc" "--k without OP message"
run "$reg" --impu sip:alice@ims.test --k 1234 --op $k
expect_exit 2 "--k too short"
expect_stderr_line "--k must be 32 hex digits" "short K message"
run "$reg" --impu sip:alice@ims.test --k $k --opc zz$k
expect_exit 2 "--opc not hex"
expect_stderr_line "--opc must be 32 hex digits" "OPc not hex message"
echo '{"seq_ms": [1, 2]}' >"$TEST_TMP/usim.json"
run "$reg" --impu sip:alice@ims.test --k $k --op $k --usim-state "$TEST_TMP/usim.json" --proxy sip:127.0.12.98
expect_exit 2 "malformed USIM state file"
expect_stderr_line "malformed USIM state $TEST_TMP/usim.json: seq_ms must be an array of 32 numbers" "USIM state message"

run "$reg" --subscribers "$TEST_TMP/missing.csv" --impi alice@ims.test
expect_exit 2 "unreadable subscriber file"
expect_stderr_line "cannot read subscriber file $TEST_TMP/missing.csv: No such file or directory" "unreadable file message"

run "$reg" --subscribers "$TEST_TMP" --impi alice@ims.test
expect_exit 2 "a directory as subscriber file"
expect_stderr_line "cannot read subscriber file $TEST_TMP: Is a directory" "directory message"

printf 'impi,impus,auth,password,k,op,opc,amf,sqn\nbob@ims.test,sip:bob@ims.test,aka,,0011,,,,\n' >"$TEST_TMP/bad.csv"
run "$reg" --subscribers "$TEST_TMP/bad.csv" --impi bob@ims.test
expect_exit 2 "malformed subscriber file"
expect_stderr_line "$TEST_TMP/bad.csv:2:36: k must be 32 hex digits" "malformed file names line and column"

run "$reg" --subscribers "$csv" --impi carol@ims.test
expect_exit 2 "identity not in the subscriber file"
expect_stderr_line "no subscriber 'carol@ims.test' in $csv" "unknown row message"

run "$reg" --subscribers "$csv"
expect_exit 2 "subscriber file without --impi"
expect_stderr_line "--subscribers needs --impi ID" "missing --impi message"

run "$reg" --impu sip:alice@ims.test --password pw --transport sctp
expect_exit 2 "unknown transport"
expect_stderr_line "--transport: sctp not in \{udp,tcp,tls\}" "unknown transport message"

run "$reg" --impu sip:alice@ims.test --password pw --proxy 'sip:127.0.12.98;transport=sctp'
expect_exit 2 "unknown transport in the proxy URI"
expect_stderr_line "unknown transport 'sctp' \(supported: udp, tcp, tls\)" "unknown transport in URI message"

run "$reg" --impu sip:alice@ims.test --password pw --local 127.0.12.300
expect_exit 2 "local address that is not an IP address"
expect_stderr_line "invalid --local '127.0.12.300'" "bad local address message"

# Port in use: a silent peer holds 127.0.12.1:5060.
blackhole 127.0.12.1 5060
run "$reg" --impu sip:alice@ims.test --password pw --proxy sip:127.0.12.98 --local 127.0.12.1:5060
expect_exit 5 "local port in use"
expect_stderr_line "cannot listen on udp 127.0.12.1:5060: Address already in use" "port in use message"

run "$reg" --subscribers "$csv" --proxy sip:127.0.12.98 --rate 0 --count 10
expect_exit 2 "--rate 0"
expect_stderr_line "--rate: must be greater than 0, not 0" "--rate 0 message"

run "$reg" --subscribers "$csv" --proxy sip:127.0.12.98 --rate 10
expect_exit 2 "load without --count or --duration"
expect_stderr_line "load mode needs --count N or --duration SECONDS" "load bounds message"

run "$reg" --impu sip:alice@ims.test --password pw --count 3
expect_exit 2 "load without a subscriber file"
expect_stderr_line "load mode needs --subscribers FILE" "load without CSV message"

run "$reg" --impu sip:alice@ims.test --password pw --unregister --unregister-all
expect_exit 2 "--unregister with --unregister-all"
expect_stderr_line "--unregister and --unregister-all exclude each other" "exclusive flags message"

run "$reg" --impu sip:alice@ims.test --password pw --reg-event
expect_exit 2 "--reg-event without --keep"
expect_stderr_line "--reg-event needs --keep" "--reg-event message"

run "$reg" --impu sip:alice@ims.test --password pw --expires 0
expect_exit 2 "--expires 0"

run "$reg" --impu sip:alice@ims.test --password pw --timeout -1
expect_exit 2 "negative --timeout"

run "$reg" --no-such-option
expect_exit 2 "unknown option"
expect_stderr_line "not expected: --no-such-option \(try 'ims-register --help'\)" "unknown option: one line pointing to --help"

# --config FILE: options from a file; a bad value there is a usage error too.
printf 'impu = "sip:alice@ims.test"\npassword = "pw"\nproxy = "sip:127.0.12.98:5060"\nlocal = "127.0.12.2"\ntimeout = 1\n' >"$TEST_TMP/ok.conf"
blackhole 127.0.12.98 5060
run "$reg" --config "$TEST_TMP/ok.conf"
expect_exit 3 "options from --config reach a silent registrar"
printf 'rate = 0\ncount = 1\n' >"$TEST_TMP/bad.conf"
run "$reg" --config "$TEST_TMP/bad.conf" --subscribers "$csv"
expect_exit 2 "a bad value in --config"
run "$reg" --config "$TEST_TMP/none.conf"
expect_exit 2 "a missing --config file"

# A failed write to stdout is a failure (exit 5), not a success.
set +e
"$reg" --help >/dev/full 2>"$ERR_FILE"; RC=$?
set -e
LAST_CMD="ims-register --help >/dev/full"
expect_exit 5 "--help to a full device"
set +e
"$reg" -VV --json >/dev/full 2>"$ERR_FILE"; RC=$?
set -e
LAST_CMD="ims-register -VV --json >/dev/full"
expect_exit 5 "-VV --json to a full device"
expect_stderr_line "cannot write to standard output: No space left on device" "full device message"

# Secrets stay out of diagnostics even at the highest verbosity.
run "$reg" --impu sip:alice@ims.test --password s3cr3t-value --proxy sip:127.0.12.98:5060 --local 127.0.12.2 --timeout 1 -vvv --json
expect_exit 3 "verbose run against a silent registrar"
expect_no_match "$OUT_FILE" "s3cr3t-value" "the password is not on stdout"
expect_no_match "$ERR_FILE" "s3cr3t-value" "the password is not on stderr"

finish
