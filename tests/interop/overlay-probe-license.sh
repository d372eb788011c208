#!/usr/bin/env bash
# overlay-probe license against a real nginx on loopback (the licence server
# is not written yet; any HTTP(S) server shows reachability and certificates):
# a valid certificate of a test CA, an expired one, plain HTTP and a 503;
# then `all` runs these probes concurrently from a testbed file.
# Hosts: 127.0.0.85 nginx (8443 valid TLS, 8444 expired TLS, 8080 HTTP), .80 nobody.
# Usage: overlay-probe-license.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
. "$(dirname "$0")/../lib/testlib.sh"
probe=$build/tools/overlay-probe
command -v nginx >/dev/null || { echo "SKIP: nginx is not installed (scripts/setup installs it)"; exit 0; }
cd "$TEST_TMP"

# A test CA; a certificate for 127.0.0.85 valid 10 days, and one that expired in 2020.
mkdir -p ca && : >ca/index.txt && echo 01 >ca/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
dir = ./ca
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=probe-test-ca -days 30 2>/dev/null
for name in good old; do
  openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj /CN=127.0.0.85 \
    -addext subjectAltName=IP:127.0.0.85 2>/dev/null
done
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in good.csr -out good.crt -days 10 2>/dev/null
openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in old.csr -out old.crt \
  -startdate 20200101000000Z -enddate 20200201000000Z 2>/dev/null
[ -s good.crt ] && [ -s old.crt ] && pass "test certificates made" || fail "openssl ca failed"

mkdir -p nginx/logs
cat >nginx/nginx.conf <<CONF
daemon off;
master_process off;
pid $TEST_TMP/nginx/nginx.pid;
error_log $TEST_TMP/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/nginx/body;
  proxy_temp_path $TEST_TMP/nginx/proxy;
  fastcgi_temp_path $TEST_TMP/nginx/fastcgi;
  uwsgi_temp_path $TEST_TMP/nginx/uwsgi;
  scgi_temp_path $TEST_TMP/nginx/scgi;
  server { listen 127.0.0.85:8443 ssl; ssl_certificate $TEST_TMP/good.crt; ssl_certificate_key $TEST_TMP/good.key;
           location / { return 200 "licence server stand-in\n"; } }
  server { listen 127.0.0.85:8444 ssl; ssl_certificate $TEST_TMP/old.crt; ssl_certificate_key $TEST_TMP/old.key;
           location / { return 200 "expired\n"; } }
  server { listen 127.0.0.85:8080; location / { return 200 "plain\n"; } location /fail { return 503; } }
}
CONF
nginx -p "$TEST_TMP/nginx" -c "$TEST_TMP/nginx/nginx.conf" >nginx.out 2>&1 &
track $!
wait_for 5 curl -sf http://127.0.0.85:8080/ && pass "nginx serves" || fail "nginx did not start: $(cat nginx.out nginx/logs/error.log)"

run "$probe" license https://127.0.0.85:8443/ --ca-file ca.crt
expect_exit 0 "https with a valid certificate of the given CA"
expect_match "$OUT_FILE" 'HTTP 200 in [0-9.]+ ms, server "nginx/' "status, time and server"
expect_match "$OUT_FILE" 'certificate "CN = 127.0.0.85" from "CN = probe-test-ca"' "subject and issuer"
expect_match "$OUT_FILE" 'expires 20[0-9-]+T[0-9:]+Z \((9\.[0-9]|10\.0) days\), trusted' "expiry in about 10 days, trusted"
sed 's/^/  | /' "$OUT_FILE"
run "$probe" --json license https://127.0.0.85:8443/ --ca-file ca.crt
tls=$(json_field "$OUT_FILE" probe tls)
echo "$tls" | grep -q '"verified": true' && echo "$tls" | grep -q '"host_matches": true' && pass "JSON tls: verified, host matches" ||
  fail "tls $tls"

run "$probe" license https://127.0.0.85:8443/
expect_exit 1 "a certificate the system does not trust"
expect_stderr_line 'not trusted: (self.signed|unable to get local issuer)' "untrusted said"

run "$probe" license https://127.0.0.85:8444/ --ca-file ca.crt
expect_exit 1 "an expired certificate"
expect_stderr_line 'the TLS certificate expired on 2020-02-01T00:00:00Z' "expiry date said"
expect_match "$OUT_FILE" 'certificate EXPIRED [0-9]+ days ago' "text says EXPIRED"

run "$probe" --nagios --warning cert_days=30 --critical cert_days=3 license https://127.0.0.85:8443/ --ca-file ca.crt
expect_exit 1 "--nagios WARNING: expires within 30 days"
expect_match "$OUT_FILE" "^LICENSE WARNING: .*cert_days beyond warning 30.* \| 'nodes'=1 'rtt_ms'=[0-9.]+ms 'cert_days'=[0-9.]+;30:;3:$" \
  "--nagios line with cert_days perfdata"
run "$probe" --nagios license https://127.0.0.85:8444/ --ca-file ca.crt
expect_exit 2 "--nagios CRITICAL: expired"

run "$probe" license http://127.0.0.85:8080/
expect_exit 0 "plain HTTP"
run "$probe" license http://127.0.0.85:8080/fail
expect_exit 1 "HTTP 503 is negative"

# all: these probes concurrently from a testbed file, one table.
cat >testbed.toml <<TOML
[license.good]
url = "https://127.0.0.85:8443/"
ca-file = "$TEST_TMP/ca.crt"

[license.expired]
url = "https://127.0.0.85:8444/"
ca-file = "$TEST_TMP/ca.crt"

[license.plain]
url = "http://127.0.0.85:8080/"

[sip.nobody]
uri = ["sip:127.0.0.85:5099"]
count = 1
local = "127.0.0.80"
timeout = 1
TOML
run "$probe" all --testbed testbed.toml
expect_exit 3 "all: the worst outcome (no answer) decides"
expect_match "$OUT_FILE" '^NAME +PROBE +TARGET +STATUS +SUMMARY' "one table"
expect_match "$OUT_FILE" '^good +license +https://127.0.0.85:8443/ +OK ' "good: OK"
expect_match "$OUT_FILE" '^expired +license +https://127.0.0.85:8444/ +CRITICAL +the TLS certificate expired' "expired: CRITICAL"
expect_match "$OUT_FILE" '^nobody +sip +sip:127.0.0.85:5099 +CRITICAL +no OPTIONS answered' "sip nobody: CRITICAL"
sed 's/^/  | /' "$OUT_FILE"
run "$probe" --nagios all --testbed testbed.toml
expect_exit 2 "all --nagios: CRITICAL"
expect_match "$OUT_FILE" "^OVERLAY CRITICAL: 2/4 probes OK; expired license CRITICAL: .*; nobody sip CRITICAL: .* \| 'good_nodes'=1 .*'expired_cert_days'=-" \
  "all --nagios: one line naming the failing probes, perfdata prefixed by name"
run "$probe" --prometheus --watch 0.2 --rounds 2 all --testbed testbed.toml
expect_exit 3 "all --prometheus --watch --rounds 2"
[ "$(grep -c '^overlay_probe_up{probe="license",target="https://127.0.0.85:8443/",name="good"} 1$' "$OUT_FILE")" = 2 ] &&
  pass "two rounds of Prometheus text" || fail "rounds: $(grep -c overlay_probe_up "$OUT_FILE") up lines"
run "$probe" --json all --testbed testbed.toml
expect_match "$OUT_FILE" '"event":"summary".*"ok":2,"probes":4,"status":"CRITICAL"' "all --json: a summary event"
finish
