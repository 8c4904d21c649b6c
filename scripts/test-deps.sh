#!/usr/bin/env bash
# Installs and starts what the tests need when it is missing. Under CI=true
# a dependency that cannot be provided fails the run; elsewhere the suites
# that need it skip, loudly.
set -u
need_pkgs=()
command -v curl >/dev/null || need_pkgs+=(curl)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-deps: installing ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1; } ||
      echo "test-deps: could not install ${need_pkgs[*]}"
  else
    echo "test-deps: missing ${need_pkgs[*]} and cannot install (not root or no apt-get)"
  fi
fi

missing=()
command -v curl >/dev/null || missing+=(curl)
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
