"""A serve-only install: ``pip install .[serve-cpu]`` into a fresh venv generates and serves without torch.

This is what a deployment gets: the package's declared dependencies (not this venv's pinned
closure), resolved by pip from the registry with every version held to requirements.txt through a
constraints file, so the test is reproducible and catches a missing or superfluous declaration.
It needs the package registry (pip's cache makes reruns fast); set TLM_SKIP_SERVE_INSTALL=1 to
skip it locally. CI runs it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import venv
from pathlib import Path

import httpx
import pytest

from export.generate import Generator
from helpers import ROOT, run

pytestmark = pytest.mark.skipif(os.environ.get("TLM_SKIP_SERVE_INSTALL") == "1",
                                reason="TLM_SKIP_SERVE_INSTALL=1 (CI runs it)")

SOURCES = ("pyproject.toml", "README.md", "tlm_fairseq", "preprocess", "export")


def constraints(dest: Path) -> Path:
    """requirements.txt's pins, plus plain onnxruntime at the pinned onnxruntime-gpu version."""
    text = (ROOT / "requirements.txt").read_text()
    gpu = re.search(r"^onnxruntime-gpu==(\S+)$", text, re.M)
    assert gpu, "requirements.txt pins onnxruntime-gpu"
    dest.write_text(text + f"onnxruntime=={gpu.group(1)}\n")
    return dest


@pytest.fixture(scope="module")
def serve_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only this project with its [serve-cpu] extra."""
    base = tmp_path_factory.mktemp("serve_venv")
    source = base / "src"
    source.mkdir()
    for name in SOURCES:  # build from a clean copy: no build/ or egg-info lands in the working tree
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    pip = [env_dir / "bin" / "python", "-m", "pip", "--disable-pip-version-check"]
    pins = constraints(base / "constraints.txt")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    run([*pip, "install", "-q", "-c", pins, "setuptools"], env=env, timeout=600)
    run([*pip, "install", "-q", "--no-build-isolation", "-c", pins, f"{source}[serve-cpu]"], env=env, timeout=600)
    return env_dir


def venv_env(env_dir: Path) -> dict[str, str]:
    """No PYTHONPATH: the venv must find everything in what it installed, not in this working tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, "OMP_NUM_THREADS": "1", "PATH": f"{env_dir / 'bin'}:{env.get('PATH', '')}"}


def test_serve_extra_installs_no_training_stack(serve_venv):
    python = serve_venv / "bin" / "python"
    probe = ("import importlib.util as u, json; "
             "print(json.dumps({m: u.find_spec(m) is not None for m in "
             "['torch', 'fairseq', 'onnx', 'onnxruntime', 'fastapi', 'uvicorn', 'sentencepiece', 'export']}))")
    found = json.loads(run([python, "-c", probe], env=venv_env(serve_venv), cwd=serve_venv).stdout)
    assert found == {"torch": False, "fairseq": False, "onnx": False, "onnxruntime": True, "fastapi": True,
                     "uvicorn": True, "sentencepiece": True, "export": True}
    no_torch = run([python, "-c", "import torch"], env=venv_env(serve_venv), cwd=serve_venv, check=False)
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr


def test_generate_and_serve_without_torch(serve_venv, cgec, serving, tmp_path):
    sentences = cgec["test_raw"].read_text(encoding="utf-8").splitlines()[:6]
    expected = [r.output for r in Generator(cgec["model_dir"], device="cpu", threads=1).generate(sentences, beam=2)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    out = tmp_path / "out.txt"
    env = venv_env(serve_venv)
    run([serve_venv / "bin" / "tlm-generate", "--model-dir", cgec["model_dir"], "--input", src, "--output", out,
         "--beam", "2", "--threads", "1"], env=env, cwd=tmp_path)
    assert out.read_text(encoding="utf-8").splitlines() == expected
    with serving(cgec["model_dir"], command=[str(serve_venv / "bin" / "tlm-serve")], env=env) as url:
        reply = httpx.post(f"{url}/v1/generate", json={"inputs": sentences, "beam": 2}, timeout=60)
        assert reply.status_code == 200 and reply.json()["outputs"] == expected
        assert httpx.get(f"{url}/health").json()["provider"] == "CPUExecutionProvider"
    refused = run([serve_venv / "bin" / "tlm-generate", "--model-dir", cgec["model_dir"], "--lenpen=1e4"],
                  env=env, cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "argument --lenpen" in refused.stderr
