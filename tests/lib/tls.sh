# Test certificates for SIP over TLS, made with openssl in the test's
# temporary directory. Needs testlib.sh sourced first.

# tls_ca NAME: a self-signed CA in $TEST_TMP/tls/NAME.crt and NAME.key.
tls_ca() {
  local dir=$TEST_TMP/tls
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$dir/$1.key" -out "$dir/$1.crt" 2>/dev/null
}

# tls_cert CA NAME HOST: a certificate for HOST, an IP address (its CN and
# subjectAltName), signed by CA, in $TEST_TMP/tls/NAME.crt and NAME.key.
tls_cert() {
  local dir=$TEST_TMP/tls ca=$1 name=$2 host=$3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$host" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' "$host" \
    >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
}
