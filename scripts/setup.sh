# Shared set-up for scripts/demo and scripts/test (sourced, not run): installs the Debian packages
# that are missing, then configures and builds into build/ (or $NFLUX_BUILD_DIR).
set -euo pipefail

NFLUX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NFLUX_BUILD_DIR="${NFLUX_BUILD_DIR:-$NFLUX_ROOT/build}"

# The project's whole dependency list; README.md says why each one is there.
NFLUX_PACKAGES=(
  g++ cmake ninja-build pkg-config
  nlohmann-json3-dev libboost-dev libsqlite3-dev sqlite3 libzstd-dev libssl-dev libsodium-dev nettle-dev
  libcli11-dev libjemalloc-dev libsimdjson-dev python3
  libcpp-httplib-dev curl
  chromium
  libgtest-dev libgmock-dev libbenchmark-dev
  # The store's PostgreSQL backend tests: the server (scripts/pg-cluster starts a throw-away one),
  # its client library libpq, and haproxy, the load balancer in front of the replica test's servers.
  postgresql libpq-dev haproxy
)
# A build with clang (CXX=clang++, as CI's sanitized pass) needs it and its sanitizer runtimes.
if [[ "${CXX:-}" == *clang* ]]; then
  NFLUX_PACKAGES+=(clang libclang-rt-14-dev)
fi

nflux_install_packages() {
  local missing=()
  for package in "${NFLUX_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing missing packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# nflux_install_node_packages FOLDER PACKAGE: `npm ci` in tests/FOLDER (its package-lock.json) when
# node_modules/PACKAGE is missing; at test set-up, never at run time. Node.js and npm from Debian
# when the machine has neither.
nflux_install_node_packages() {
  [ -d "$NFLUX_ROOT/tests/$1/node_modules/$2" ] && return 0
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  npm ci --prefix "$NFLUX_ROOT/tests/$1" --no-audit --no-fund >&2
}

# The npm `fhir` package the FHIR tests validate the test bundles with.
nflux_install_fhir_validator() { nflux_install_node_packages fhir fhir; }
# puppeteer-core, which drives Debian's chromium in the web app's browser tests (no browser download).
nflux_install_browser_driver() { PUPPETEER_SKIP_DOWNLOAD=1 nflux_install_node_packages webapp puppeteer-core; }

# nflux_configure [extra cmake args...]: configure when there is no build yet or args are given.
nflux_configure() {
  if [ ! -f "$NFLUX_BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
    cmake -S "$NFLUX_ROOT" -B "$NFLUX_BUILD_DIR" -G Ninja "$@" >&2
  fi
}

# nflux_build [extra cmake args...]: configure once, then an incremental build of everything.
nflux_build() {
  nflux_configure "$@"
  cmake --build "$NFLUX_BUILD_DIR" -j "$(nproc)" >&2
}

# nflux_build_target TARGET...: configure once, then build only these targets (the demo builds
# build/nflux alone before anything else).
nflux_build_target() {
  nflux_configure
  cmake --build "$NFLUX_BUILD_DIR" -j "$(nproc)" --target "$@" >&2
}

# nflux_build_clips_bench: CLIPS's source fetched once (scripts/fetch-clips), then the side-by-side
# benchmark built alone. Configured every time (quick), so that a build directory made before the
# fetch sees CLIPS.
nflux_build_clips_bench() {
  "$NFLUX_ROOT/scripts/fetch-clips"
  cmake -S "$NFLUX_ROOT" -B "$NFLUX_BUILD_DIR" -G Ninja >&2
  cmake --build "$NFLUX_BUILD_DIR" -j "$(nproc)" --target nflux_clips_bench >&2
}
