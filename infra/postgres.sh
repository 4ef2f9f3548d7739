#!/usr/bin/env bash
# A local Postgres 16 with pgvector for development and tests, from the PyPI wheel `pgserver`
# (which bundles initdb, pg_ctl, postgres and the `vector` extension): no Debian server package,
# no Docker, works on a fresh machine.
#
# Usage: infra/postgres.sh start | stop | status | url | psql [args...]
#   start   initialise (once), start, wait for connections, create database `rag` with the
#           `vector` extension; prints the URL as the only line on stdout. Idempotent.
#   stop    fast shutdown; fine when not running.
#   status  exit 0 when running, 3 when not.
#   url     print postgres://postgres@127.0.0.1:PORT/rag
#   psql    run the bundled psql against that URL.
#
# Environment: PGDATA_DIR (default <repo>/.data/postgres), PGPORT (default 54329).
#
# Layout under PGDATA_DIR:
#   cluster/   the data directory (initdb), owned by the user the server runs as
#   dist/      a copy of the wheel's pginstall/ and pgserver.libs/ (see install_binaries)
#   run/       the unix socket (the server listens on 127.0.0.1 and here, nowhere else)
#   log/       postgres.log
#
# Postgres refuses to run as root. Run as root (as CI does), the server runs as the system user
# `ragpg`, created here if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DATA=${PGDATA_DIR:-$ROOT/.data/postgres}
[[ $DATA == /* ]] || DATA="$PWD/$DATA"
PORT=${PGPORT:-54329}
# Postgres's 128 MB default cannot hold the HNSW index of 100k+ 384-d vectors; every insert and
# query would churn it through the OS cache. A development server on a developer's machine can
# afford more (PG_SHARED_BUFFERS overrides).
SHARED_BUFFERS=${PG_SHARED_BUFFERS:-1GB}
DB=rag
SUPERUSER=postgres # initdb -U: the same role name whoever runs the script
OS_USER=ragpg

CLUSTER=$DATA/cluster
DIST=$DATA/dist
BIN=$DIST/pgserver/pginstall/bin
RUN=$DATA/run
LOG=$DATA/log/postgres.log
# A unix socket path must fit in 107 bytes; from a deeply nested checkout, fall back to /tmp.
if (( ${#RUN} + 20 > 107 )); then
  RUN=/tmp/ragpg-$(printf '%s' "$DATA" | cksum | cut -d' ' -f1)
fi

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

AS_ROOT=0
[[ $(id -u) -eq 0 ]] && AS_ROOT=1

# Runs a command as the server's user: `ragpg` when we are root, else ourselves. From `/`, so a
# working directory the user cannot enter (e.g. under /root) does not matter.
as_pg() {
  if ((AS_ROOT)); then
    if command -v runuser >/dev/null; then
      (cd / && runuser -u "$OS_USER" -- "$@")
    else
      (cd / && setpriv --reuid="$OS_USER" --regid="$OS_USER" --init-groups -- "$@")
    fi
  else
    "$@"
  fi
}

ensure_os_user() {
  ((AS_ROOT)) || return 0
  id -u "$OS_USER" >/dev/null 2>&1 && return 0
  log "creating system user $OS_USER (Postgres does not run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "local Postgres for rag-functions" "$OS_USER"
}

# The server's user must be able to reach PGDATA_DIR. A checkout under /root (mode 700) is not
# reachable by anyone else; rather than moving the data or running with extra capabilities, we
# grant search-only permission (x: enter, not list) on exactly the directories in the way: an ACL
# entry for ragpg when setfacl exists, else o+x.
ensure_reachable() {
  ((AS_ROOT)) || return 0
  as_pg test -x "$DATA" && return 0
  local path="" part
  local -a parts
  IFS=/ read -ra parts <<<"${DATA#/}"
  for part in "${parts[@]}"; do
    [[ -n $part ]] || continue
    path+="/$part"
    as_pg test -x "$path" && continue
    if command -v setfacl >/dev/null && setfacl -m "u:$OS_USER:--x" "$path" 2>/dev/null; then
      log "granted $OS_USER search (x) permission on $path (ACL)"
    else
      chmod o+x "$path"
      log "granted others search (x) permission on $path so $OS_USER can reach $DATA"
    fi
  done
}

# The wheel lives in site-packages, under /root/.pyenv here, which ragpg cannot reach. We hardlink
# (or, across filesystems, copy) the wheel's pginstall/ and pgserver.libs/ into PGDATA_DIR/dist,
# keeping their relative layout because the binaries find libpq at $ORIGIN/../../../pgserver.libs.
# Done the same way when not root, so every subcommand has one place to look. The copy is made
# once; delete PGDATA_DIR/dist to pick up an upgraded wheel.
install_binaries() {
  if [[ -x $BIN/postgres && -x $BIN/pg_ctl && -x $BIN/initdb && -x $BIN/psql ]]; then return 0; fi
  local find='import importlib.util, os; s = importlib.util.find_spec("pgserver"); print(os.path.dirname(s.origin) if s else "")'
  local src
  src=$(python3 -c "$find")
  if [[ -z $src ]]; then
    log "installing the pgserver wheel"
    python3 -m pip install -q --root-user-action=ignore pgserver >&2
    src=$(python3 -c "$find")
  fi
  local pgi=$src/pginstall libs
  libs=$(dirname "$src")/pgserver.libs
  for f in bin/initdb bin/pg_ctl bin/postgres bin/psql lib/postgresql/vector.so share/postgresql/extension/vector.control; do
    [[ -e $pgi/$f ]] || die "unexpected pgserver wheel layout: $pgi/$f is missing"
  done
  [[ -d $libs ]] || die "unexpected pgserver wheel layout: $libs is missing"

  local tmp=$DIST.tmp.$$
  rm -rf "$tmp" "$DIST"
  mkdir -p "$tmp/pgserver"
  if ! { cp -al "$pgi" "$tmp/pgserver/pginstall" && cp -al "$libs" "$tmp/pgserver.libs"; } 2>/dev/null; then
    rm -rf "$tmp"
    mkdir -p "$tmp/pgserver"
    cp -a "$pgi" "$tmp/pgserver/pginstall"
    cp -a "$libs" "$tmp/pgserver.libs"
  fi
  chmod -R a+rX "$tmp"
  mv "$tmp" "$DIST"
  log "Postgres binaries from $src in $DIST"
}

initialised() { [[ -f $CLUSTER/PG_VERSION ]]; }

running() { initialised && [[ -x $BIN/pg_ctl ]] && as_pg "$BIN/pg_ctl" -D "$CLUSTER" status >/dev/null 2>&1; }

# The port of the running server (postmaster.pid, line 4), else the configured one.
port() {
  local p=""
  [[ -r $CLUSTER/postmaster.pid ]] && p=$(sed -n 4p "$CLUSTER/postmaster.pid" 2>/dev/null || true)
  echo "${p:-$PORT}"
}

url() { echo "postgres://$SUPERUSER@127.0.0.1:$(port)/$DB"; }

admin_psql() {
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port)" -U "$SUPERUSER" "$@"
}

cmd_start() {
  mkdir -p "$DATA"
  # One start/stop at a time (tests and scripts may race to start the same cluster).
  exec 9>"$DATA/.lock"
  flock -w 120 9 || die "timed out waiting for another postgres.sh on $DATA"

  ensure_os_user
  install_binaries
  mkdir -p "$CLUSTER" "$RUN" "$(dirname "$LOG")"
  chmod 700 "$CLUSTER"
  if ((AS_ROOT)); then
    chmod 755 "$DATA"
    # Also after a restore or a new container where ragpg got another uid.
    [[ $(stat -c %U "$CLUSTER") == "$OS_USER" ]] || chown -R "$OS_USER:$OS_USER" "$CLUSTER"
    chown "$OS_USER:$OS_USER" "$RUN" "$(dirname "$LOG")"
    [[ ! -e $LOG ]] || chown "$OS_USER:$OS_USER" "$LOG"
    ensure_reachable
  fi

  if ! initialised; then
    local locale=C
    locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && locale=C.UTF-8
    log "initialising a cluster in $CLUSTER"
    # Trust authentication: any local user may connect as any role. Acceptable for this
    # development/test server only because it listens on 127.0.0.1 and a socket inside the
    # data folder, never on a network interface. Never use this setup for shared data.
    as_pg "$BIN/initdb" -D "$CLUSTER" -U "$SUPERUSER" --auth=trust --encoding=UTF8 \
      --locale="$locale" >/dev/null 2>"$DATA/log/initdb.log" \
      || { cat "$DATA/log/initdb.log" >&2; die "initdb failed"; }
  fi

  if ! running; then
    log "starting on 127.0.0.1:$PORT (log: $LOG)"
    # In a subshell that first closes every inherited descriptor above stderr: the server lives
    # on, and must not hold our lock (fd 9) or a caller's descriptors. Foundation's Process on
    # Linux, for one, sees its child exit only when a socket it passed down is closed by everyone.
    if ! (
      for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
      done
      as_pg "$BIN/pg_ctl" -D "$CLUSTER" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories='$RUN' -c shared_buffers=$SHARED_BUFFERS -c maintenance_work_mem=512MB" start >/dev/null
    ); then
      tail -n 20 "$LOG" >&2 || true
      die "postgres did not start"
    fi
  fi

  local i
  for ((i = 0; i < 100; i++)); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(port)" -U "$SUPERUSER" -d postgres -t 2 && break
    sleep 0.1
  done
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(port)" -U "$SUPERUSER" -d postgres || die "postgres is running but not accepting connections on $(port)"

  if [[ $(admin_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'") != 1 ]]; then
    admin_psql -d postgres -c "CREATE DATABASE $DB" >&2
  fi
  admin_psql -d "$DB" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector" >&2
  url
}

cmd_stop() {
  [[ -d $DATA ]] || return 0
  exec 9>"$DATA/.lock"
  flock -w 120 9 || die "timed out waiting for another postgres.sh on $DATA"
  if running; then
    ensure_os_user
    as_pg "$BIN/pg_ctl" -D "$CLUSTER" -m fast -w -t 60 stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status)
    if running; then log "running: $(url)"; exit 0; else log "not running"; exit 3; fi ;;
  url) url ;;
  psql)
    shift
    [[ -x $BIN/psql ]] || die "not installed yet: run infra/postgres.sh start"
    exec "$BIN/psql" "$(url)" "$@" ;;
  *)
    echo "usage: $0 start | stop | status | url | psql [args...]" >&2
    exit 2 ;;
esac
