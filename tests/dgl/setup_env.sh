#!/usr/bin/env bash
# Creates (once, cached) a CPU-only Python venv with real DGL for checking graphprep output:
#   torch==2.2.1 dgl==2.1.0 torchdata==0.7.1 numpy<2 pyarrow<17 pandas<2.3
# Location: ${GRAPHPREP_DGL_VENV:-$HOME/.cache/graphprep-dgl-venv}. Idempotent: if the venv already
# imports everything it is reused as is; if it is missing or broken it is rebuilt from scratch.
# The last line printed on stdout is the venv's python (pip chatter goes to stderr):
#   PY=$(bash tests/dgl/setup_env.sh | tail -1); "$PY" tests/dgl/check_output.py ...
#
# Why not `torch --no-deps` (tried, measured): the PyPI torch 2.2.1 manylinux wheel (~750 MB) pulls
# ~3 GB of nvidia-*-cu12 wheels + triton. Installing torch with --no-deps plus only its pure-python
# deps (filelock, typing-extensions, sympy, networkx, jinja2, fsspec) does NOT work: libtorch.so
# links libtorch_cuda.so, which has hard DT_NEEDED entries on libcudart/cublas/cublasLt/cudnn/cufft/
# curand/cusparse/nccl/nvToolsExt, so `import torch` fails with "libcudart.so.12: cannot open shared
# object file" / "libcublas.so.*[0-9] not found". CPU-only torch wheels exist only on the PyTorch
# index, which this project's machines cannot reach (PyPI only). So this script does the plain,
# fully resolved install; it is slow once (see tests/dgl/README.md for time/disk) and cached after.
# Env knobs: PYTHON (interpreter used to create the venv, default python3; 3.8-3.12 have wheels).
set -euo pipefail
venv=${GRAPHPREP_DGL_VENV:-$HOME/.cache/graphprep-dgl-venv}
py=$venv/bin/python
check() {
  [ -x "$py" ] && "$py" - >/dev/null 2>&1 <<'PYEOF'
import torch, dgl, dgl.distributed, numpy, pandas, pyarrow, pyarrow.parquet
assert torch.__version__.split("+")[0] == "2.2.1", torch.__version__
assert dgl.__version__ == "2.1.0", dgl.__version__
assert int(numpy.__version__.split(".")[0]) < 2
assert torch.zeros(3).add(1).sum().item() == 3.0
PYEOF
}
if ! check; then
  if [ -e "$venv" ]; then
    # only ever delete something that is (or was meant to be) our venv
    if [ -f "$venv/pyvenv.cfg" ] || [ -z "$(ls -A "$venv" 2>/dev/null)" ]; then
      echo "setup_env: rebuilding broken venv $venv" >&2; rm -rf "$venv"
    else
      echo "setup_env: $venv exists and is not a venv; refusing to touch it" >&2; exit 1
    fi
  fi
  echo "setup_env: creating $venv (one-time: about 2.5 GB of wheels, 5.4 GB installed, 3-10 min)" >&2
  t0=$(date +%s)
  "${PYTHON:-python3}" -m venv "$venv"
  # Progress: on a terminal (and not in CI) pip's own output with its download bars; otherwise
  # one line per package step (Collecting / Downloading with its size / Installing).
  pipi() {
    local rc=0
    if [ -t 2 ] && [ -z "${CI:-}" ]; then
      PIP_NO_INPUT=1 "$py" -m pip install --disable-pip-version-check "$@" >&2 || rc=$?
    else
      PIP_NO_INPUT=1 "$py" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 \
        | { grep --line-buffered -E '^(Collecting|  Downloading|  Using cached|Installing|Successfully|ERROR|WARNING)' || true; } \
        | sed -u 's/^/setup_env: pip: /' >&2 || rc=$?
    fi
    return "$rc"
  }
  pipi 'torch==2.2.1' 'dgl==2.1.0' 'torchdata==0.7.1' 'numpy<2' 'pyarrow<17' 'pandas<2.3' \
       pydantic pyyaml
  echo "setup_env: venv ready in $(( $(date +%s) - t0 )) s ($(du -sh "$venv" | cut -f1))" >&2
  if ! check; then
    echo "setup_env: venv $venv was built but does not import torch/dgl; last error:" >&2
    "$py" -c 'import torch, dgl, dgl.distributed, pandas, pyarrow.parquet' >&2 || true
    exit 1
  fi
fi
echo "$py"
