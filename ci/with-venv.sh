#!/usr/bin/env bash
# Run a command inside the project's virtual environment, creating and installing it first if needed.
#   bash ci/with-venv.sh tvm-codesign workloads dqn
#   bash ci/with-venv.sh pytest -q
# The venv lives in .venv next to this repo's pyproject.toml (override with TVM_CODESIGN_VENV) and is
# reinstalled whenever pyproject.toml changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TVM_CODESIGN_VENV:-$root/.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
stamp="$venv/.tvm_codesign-installed"
want="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[with-venv] setting up $venv (first run takes about a minute)" >&2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    "$venv/bin/python" -m pip install --quiet -e "$root[test,dask]" >&2
    echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
cd "$root"
exec "$@"
