#!/usr/bin/env bash
# Installs and starts what the tests need when it is missing. Under CI=true
# a dependency that cannot be provided fails the run; elsewhere the suites
# that need it skip, loudly.
#
# The store tests need redis-server and redis-cli (they start their own
# servers on free ports) and PostgreSQL: the machine's server on
# 127.0.0.1:5432 with trust authentication for user postgres (tests create
# and drop their own databases), and its initdb/pg_ctl for tests that run
# a private instance.
set -u
is_root() { [ "$(id -u)" = 0 ]; }

# install PKG...: apt-get install, with an apt-get update first if needed.
install() {
  if ! is_root || ! command -v apt-get >/dev/null; then
    echo "test-deps: missing $* and cannot install (not root or no apt-get)"
    return 1
  fi
  echo "test-deps: installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; } ||
    { echo "test-deps: could not install $*"; return 1; }
}

need_pkgs=()
command -v curl >/dev/null || need_pkgs+=(curl)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || need_pkgs+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null || need_pkgs+=(postgresql)
[ ${#need_pkgs[@]} -gt 0 ] && install "${need_pkgs[@]}"

# PostgreSQL: running on 127.0.0.1:5432, trust for user postgres.
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
pg_trust() { psql -h 127.0.0.1 -p 5432 -U postgres -w -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; }
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if is_root && [ -n "$pg_version" ] && ! pg_up; then
  echo "test-deps: starting PostgreSQL $pg_version"
  [ -d "/etc/postgresql/$pg_version/main" ] || pg_createcluster "$pg_version" main >/dev/null 2>&1
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start >/dev/null 2>&1 ||
    echo "test-deps: could not start PostgreSQL $pg_version (see /var/log/postgresql)"
  for _ in $(seq 50); do pg_up && break; sleep 0.1; done
fi
if is_root && [ -n "$pg_version" ] && pg_up && ! pg_trust; then
  hba="/etc/postgresql/$pg_version/main/pg_hba.conf"
  echo "test-deps: allowing trust authentication for postgres on 127.0.0.1 in $hba"
  # First match wins: the rule goes before every other.
  sed -i '1i host all postgres 127.0.0.1/32 trust # drawbridge tests' "$hba" &&
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload >/dev/null 2>&1
  for _ in $(seq 20); do pg_trust && break; sleep 0.1; done
fi

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-cli)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=("PostgreSQL server binaries (initdb)")
pg_trust || missing+=("PostgreSQL on 127.0.0.1:5432 with trust for user postgres")
vectors="${DRAWBRIDGE_VECTORS:-../shared/vectors}"
[ -d "$vectors" ] || missing+=("test vectors at $vectors")

if [ ${#missing[@]} -gt 0 ]; then
  if [ "${CI:-}" = true ]; then
    echo "test-deps: MISSING under CI: ${missing[*]}" >&2
    exit 1
  fi
  echo "test-deps: WARNING: missing ${missing[*]}; the suites that need them will skip" >&2
fi
exit 0
