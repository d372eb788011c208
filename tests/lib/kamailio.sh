# Starts and queries a real Kamailio registrar from the test's temporary
# directory. Needs testlib.sh sourced first. Config: tests/interop/kamailio/.

KAMAILIO_CONFIGS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../interop/kamailio" && pwd)

# kamailio_start NAME ADDRESS PORT [ALGORITHM] [CONFIG] [MEMORY_MB]
# Leaves KAM_DIR_<NAME> set to its directory (database, control socket, log).
kamailio_start() {
  local name=$1 address=$2 port=$3 algorithm=${4:-MD5} config=${5:-registrar} memory=${6:-64}
  local dir=$TEST_TMP/kamailio-$name
  mkdir -p "$dir"
  if [ ! -f "$dir/db.sqlite" ]; then
    sqlite3 "$dir/db.sqlite" </usr/share/kamailio/db_sqlite/standard-create.sql
    sqlite3 "$dir/db.sqlite" </usr/share/kamailio/db_sqlite/auth_db-create.sql
  fi
  sed -e "s|@ADDR@|$address|g; s|@PORT@|$port|g; s|@DB@|$dir/db.sqlite|g; s|@RUNDIR@|$dir|g" \
      -e "s|@ALGORITHM@|$algorithm|g; s|@DEBUG@|${KAMAILIO_DEBUG:-1}|g; s|@CHILDREN@|${KAMAILIO_CHILDREN:-2}|g" \
      -e "s|@REGISTRAR@|${KAMAILIO_REGISTRAR:-}|g" \
      "$KAMAILIO_CONFIGS/$config.cfg.in" >"$dir/kamailio.cfg"
  kamailio -f "$dir/kamailio.cfg" -DD -E -Y "$dir" -P "$dir/kamailio.pid" -m "$memory" -M 16 \
      >"$dir/kamailio.log" 2>&1 &
  track $!
  printf -v "KAM_DIR_$name" '%s' "$dir"
  # Ready when it answers OPTIONS (bounded: 10 s).
  if ! wait_for 10 sipsak -p "$address:$port" -s "sip:$address:$port" --timer-t1=50; then
    echo "kamailio $name did not start on $address:$port:" >&2
    tail -20 "$dir/kamailio.log" >&2
    return 1
  fi
}

# kamailio_add_user NAME USER DOMAIN PASSWORD (db_sqlite reads the table on every request)
kamailio_add_user() {
  local dir_var=KAM_DIR_$1
  sqlite3 "${!dir_var}/db.sqlite" \
    "insert into subscriber(username, domain, password) values('$2', '$3', '$4');"
}

# kamailio_contacts NAME USER: the contact addresses Kamailio holds for USER, one a line.
kamailio_contacts() {
  local dir_var=KAM_DIR_$1
  kamcmd -s "unix:${!dir_var}/kamailio_ctl" ul.lookup location "$2" 2>/dev/null |
    sed -n 's/^[[:space:]]*Address: //p'
}
