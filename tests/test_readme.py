"""The README's Python examples use the public API only, and run."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

import tvm_codesign

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_every_public_name_resolves() -> None:
    for name in tvm_codesign.__all__:
        assert getattr(tvm_codesign, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tvm_codesign.nope  # noqa: B018


def test_readme_examples_import_only_the_public_api() -> None:
    blocks = _python_blocks()
    assert len(blocks) >= 2, "the README shows a co-design and a pass pipeline"
    for code in blocks:
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tvm_codesign"):
                assert node.module == "tvm_codesign", f"README imports the internal module {node.module}"
                assert {a.name for a in node.names} <= set(tvm_codesign.__all__)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("tvm_codesign.") for a in node.names)


@pytest.mark.slow  # two small co-designs of DQN and a compile: about 30 s
def test_readme_examples_run(tmp_path, capsys) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the examples write under out/
    try:
        for code in _python_blocks():
            exec(compile(code, str(README), "exec"), {"__name__": "readme"})  # noqa: S102 - our own README
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert re.search(r"EDP \d\.\d{3}e\+\d+ vs eyeriss_rs \d\.\d{3}e\+\d+", out)
    assert "(1, 18)" in out
    assert (tmp_path / "out/api/dqn/result.json").is_file() and (tmp_path / "out/api/dqn_pass/database").is_dir()
