#!/usr/bin/env bash
# Builds the Debian package zynd-collector_<version>_<arch>.deb from a clean configuration:
# installs the build dependencies, configures ${ZC_PACKAGE_BUILD_DIR:-build-package} (Release,
# no tests), builds the daemon, its plugins and pages, and runs CPack's DEB generator there.
# Prints the path of the .deb on its last line. Extra arguments go to cmake.
#   scripts/package.sh && sudo dpkg -i build-package/zynd-collector_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${ZC_PACKAGE_BUILD_DIR:-build-package}
generator=()
[[ -f "$build_dir/CMakeCache.txt" ]] || generator=(-G Ninja)
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DZC_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
(cd "$build_dir" && cpack -G DEB >/dev/null)
ls -t "$build_dir"/zynd-collector_*.deb | head -n 1
