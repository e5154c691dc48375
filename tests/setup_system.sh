#!/usr/bin/env bash
# Installs the system libraries graphprep links against: libhdf5 (for the opt-in `hdf5` cargo
# feature, which the README's commands and .ci/run enable) and pkg-config (how the build finds it). Idempotent: does nothing when
# `pkg-config --exists hdf5` succeeds. As root on Debian/Ubuntu it runs apt-get; otherwise it
# prints the command to run and exits 1. Without HDF5 input no system library is needed: a
# plain `cargo build --release` leaves it out.
# First it installs libtorch 2.11.0 (CPU) for the default `train` feature into .libtorch/
# (tests/setup_libtorch.sh: idempotent, checksum-checked; GRAPHPREP_NO_LIBTORCH=1 skips it).
set -euo pipefail

bash "$(dirname "$0")/setup_libtorch.sh"

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists hdf5; then
    exit 0
fi

cmd="apt-get update && apt-get install -y libhdf5-dev pkg-config"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup_system.sh: installing libhdf5-dev and pkg-config" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends libhdf5-dev pkg-config
    exit 0
fi

cat >&2 <<MSG
setup_system.sh: the HDF5 library (libhdf5-dev) and pkg-config are needed to build graphprep
with HDF5 input (--features hdf5, as the README's commands do). Install them as root:

    sudo sh -c '$cmd'

(other systems: Fedora 'dnf install hdf5-devel pkgconf', macOS 'brew install hdf5 pkg-config'),
or build without HDF5 input: cargo build --release (no --features hdf5)
MSG
exit 1
