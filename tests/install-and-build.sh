#!/bin/sh
# Installs the Debian 12 packages gst-bidi needs (when run as root) and
# builds it in ${BUILD_DIR:-build}. Used by run-tests.sh and run-demo.sh.
#
#   install-and-build.sh           what the plugin and the demo need
#   install-and-build.sh --tests   also what only the tests need
#                                  (tests/debian-packages-tests.txt)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-build}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  lists=tests/debian-packages.txt
  [ "${1:-}" = "--tests" ] && lists="$lists tests/debian-packages-tests.txt"
  # shellcheck disable=SC2046,SC2086
  apt-get install -y -q --no-install-recommends \
    $(cat $lists | grep -v '^#')
fi

if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build"
else
  meson setup "$build"
fi
meson compile -C "$build"
