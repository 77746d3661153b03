#!/bin/sh
# Configure (once) and build pininspect and its test helpers.
set -e
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" all
make -j"$(nproc)" tests/helpers/pinload tests/helpers/mkfixture
