#!/usr/bin/env bash
# Installs the libtorch that `graphprep train` links against into .libtorch/ (git-ignored),
# the CPU-only way: the PyPI torch==2.11.0 wheel's libtorch_cpu.so + libc10.so + libgomp.so.1,
# the two small nvidia runtime/cupti wheels that libtorch_cpu.so lists as needed, and a lib dir
# without libtorch_cuda.so (tch links it only when present) plus an empty libtorch.so stub, so
# the build never pulls in the CUDA stack. Layout (the nvidia dir must sit two levels above the
# lib dir: libtorch_cpu.so's RPATH is $ORIGIN/../../nvidia/cu13/lib):
#   .libtorch/torch/{lib,include}     unpacked from the wheel
#   .libtorch/nvidia/cu13/lib         libcudart.so.13, libcupti.so.13
#   .libtorch/torchcpu/{lib,include,build-version}   what LIBTORCH (.cargo/config.toml) names
# Idempotent (a stamp file records the checksums of a finished install) and checksum-checked
# (every wheel's sha256 is pinned below). Needs python3 with pip and access to PyPI.
# At run time on a GPU machine, `graphprep --device cuda` loads the CUDA backend of the torch
# found there (see README, "GPU").
# Skip with GRAPHPREP_NO_LIBTORCH=1 (then build with `--no-default-features`).
set -euo pipefail

if [ "${GRAPHPREP_NO_LIBTORCH:-}" = 1 ]; then
    exit 0
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.libtorch"
version=2.11.0

wheels=(
    "torch==2.11.0 torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl 7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a"
    "nvidia-cuda-runtime==13.0.96 nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548"
    "nvidia-cuda-cupti==13.0.85 nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl 4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8"
)
stamp_text="$(printf '%s\n' "${wheels[@]}")"
if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$stamp_text" ] \
    && [ -e "$dest/torchcpu/lib/libtorch_cpu.so" ]; then
    exit 0
fi

if [ "$(uname -sm)" != "Linux x86_64" ]; then
    echo "setup_libtorch.sh: the pinned wheels are for Linux x86_64; on $(uname -sm) point LIBTORCH at a libtorch $version or build without training: cargo build --no-default-features" >&2
    exit 1
fi

cache="${GRAPHPREP_WHEEL_CACHE:-$HOME/.cache/graphprep-wheels}"
mkdir -p "$cache"
for entry in "${wheels[@]}"; do
    read -r spec file sha <<<"$entry"
    if [ ! -f "$cache/$file" ] || ! echo "$sha  $cache/$file" | sha256sum -c --status; then
        echo "setup_libtorch.sh: downloading $spec" >&2
        rm -f "$cache/$file"
        python3 -m pip download --quiet --no-deps --only-binary :all: --python-version 3.11 \
            --platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 \
            --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
            --implementation cp --dest "$cache" "$spec"
    fi
    if ! echo "$sha  $cache/$file" | sha256sum -c --status; then
        echo "setup_libtorch.sh: $cache/$file does not have the pinned sha256 $sha; delete it and rerun" >&2
        exit 1
    fi
done

stage="$(mktemp -d "$root/.libtorch.tmp.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
echo "setup_libtorch.sh: unpacking libtorch $version (CPU) into .libtorch/" >&2
python3 - "$cache" "$stage" <<'PY'
import sys, zipfile, os
cache, stage = sys.argv[1], sys.argv[2]
wanted = {
    "torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl":
        lambda n: n.startswith("torch/include/") or n in (
            "torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "torch/lib/libgomp.so.1"),
    "nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl":
        lambda n: n.startswith("nvidia/cu13/lib/"),
    "nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl":
        lambda n: n.startswith("nvidia/cu13/lib/"),
}
for whl, keep in wanted.items():
    with zipfile.ZipFile(os.path.join(cache, whl)) as z:
        for info in z.infolist():
            if keep(info.filename) and not info.is_dir():
                z.extract(info, stage)
PY
mkdir -p "$stage/torchcpu/lib"
ln -s ../torch/include "$stage/torchcpu/include"
for lib in libtorch_cpu.so libc10.so libgomp.so.1; do
    ln -s "../../torch/lib/$lib" "$stage/torchcpu/lib/$lib"
done
printf '' >"$stage/stub.c"
gcc -shared -fPIC -o "$stage/torchcpu/lib/libtorch.so" "$stage/stub.c"
rm "$stage/stub.c"
printf '%s\n' "$version" >"$stage/torchcpu/build-version"
printf '%s\n' "$stamp_text" >"$stage/.installed"
rm -rf "$dest"
mv "$stage" "$dest"
trap - EXIT
echo "setup_libtorch.sh: libtorch $version ready in .libtorch/torchcpu" >&2
