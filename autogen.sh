#!/bin/sh
# Regenerate the build system; tap-driver.sh comes from the installed automake.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux
autoreconf -fi
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
