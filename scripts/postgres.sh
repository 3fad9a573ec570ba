#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (CI's .ci/run calls it; so can you).
#
#   eval "$(bash scripts/postgres.sh start [DIR])"   # prints export lines: OCPI_TEST_POSTGRES_URL, OCPI_PG_DIR
#   bash scripts/postgres.sh stop [DIR]              # DIR defaults to $OCPI_PG_DIR
#
# start: finds the server binaries (Debian's /usr/lib/postgresql/*/bin, or pg_ctl on PATH); when there
# are none and we are root with apt-get, installs Debian's `postgresql` package. Then initdb on a fresh
# data directory (DIR, default a new temporary one), and starts the server on 127.0.0.1 at a free port
# with its socket in the same directory, trust authentication for the user `ocpi`. As root, initdb and
# the server run as the `postgres` user (PostgreSQL refuses to run as root). Diagnostics go to stderr;
# stdout is only the export lines. Exit status 3 means "no PostgreSQL here" (the tests then skip).
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

as_owner() {
    # Run a server binary as the data directory's owner: `postgres` when we are root.
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bindir
    if ! bindir=$(find_bindir); then
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            log "installing Debian's postgresql package"
            export DEBIAN_FRONTEND=noninteractive
            (apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; })
            bindir=$(find_bindir) || { log "no PostgreSQL binaries after installing"; exit 3; }
        else
            log "no PostgreSQL server binaries (initdb, pg_ctl) and cannot install them"
            exit 3
        fi
    fi
    local dir=${1:-}
    if [[ -z $dir ]]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/ocpi-pg.XXXXXX")
    fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
        chown postgres "$dir"
    fi
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$dir/data" -U ocpi -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || as_owner "$bindir/initdb" -D "$dir/data" -U ocpi -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 3; }
    # Enough connections for 4 workers with their pools and the tests' own stores.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" >&2 \
        || { log "the server did not start:"; cat "$dir/server.log" >&2; exit 3; }
    echo "$bindir" >"$dir/bindir"
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U ocpi ocpi >&2
    local url="postgresql://ocpi@127.0.0.1:$port/ocpi"
    echo "$url" >"$dir/url"
    log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') at $url (data in $dir)"
    echo "export OCPI_TEST_POSTGRES_URL=$url"
    echo "export OCPI_PG_DIR=$dir"
}

stop() {
    local dir=${1:-${OCPI_PG_DIR:-}}
    if [[ -z $dir || ! -d $dir/data ]]; then
        log "nothing to stop (no data directory given)"
        return 0
    fi
    local bindir
    bindir=$(cat "$dir/bindir" 2>/dev/null || find_bindir)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start [DIR] | stop [DIR]" >&2; exit 2 ;;
esac
