"""The exported model directory: ``config.json`` plus the files it lists, checked on load.

Every file the runtime needs is listed in the config with its SHA-256, so a missing, truncated or
swapped file is reported by name before onnxruntime ever sees it. Writing goes through a temporary
sibling directory that is renamed into place, so an interrupted export leaves nothing half-written.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dictionary import Dictionary, read_dictionary
from .errors import DictionaryMismatch, FileProblem

CONFIG_NAME = "config.json"
FORMAT = "tlm-fairseq-onnx"
FORMAT_VERSION = 1
TASK_KINDS = ("text", "records")
PRECISIONS = ("float32", "float16")
TOKENIZERS = ("zh_char", "space", "sentencepiece")

#: fairseq-generate's defaults, used when the checkpoint does not say otherwise.
DEFAULT_GENERATION: dict[str, Any] = {
    "beam": 5, "lenpen": 1.0, "max_len_a": 0.0, "max_len_b": 200, "min_len": 1,
    "no_repeat_ngram_size": 0, "unk_penalty": 0.0, "nbest": 1,
}


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def staging_dir(final: str | os.PathLike[str], overwrite: bool) -> Iterator[Path]:
    """A temporary sibling of ``final`` that becomes ``final`` only if the block succeeds."""
    final = Path(final)
    if final.exists() and not overwrite and any(final.iterdir()):
        raise FileProblem(final, "output directory exists and is not empty (pass --overwrite to replace it)")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result should look like mkdir's
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old{os.getpid()}")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _require(config: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    if key not in config:
        raise FileProblem(path, f"missing key {key!r}")
    value = config[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise FileProblem(path, f"key {key!r} has the wrong type ({type(value).__name__})")
    return value


@dataclass
class ModelDir:
    """A loaded, verified export directory."""

    root: Path
    config: dict[str, Any]
    target_dict: Dictionary
    source_dicts: dict[str, Dictionary]  # "tokens" for text models, one per record field otherwise

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def generation(self) -> dict[str, Any]:
        return self.config["generation"]

    def graph_path(self, precision: str, which: str) -> Path:
        graphs = self.config["graphs"]
        if precision not in graphs:
            raise FileProblem(self.root / CONFIG_NAME, f"no {precision} graphs in this export "
                              f"(it has {', '.join(sorted(graphs))}; re-export with --fp16 for float16)")
        return self.root / graphs[precision][which]

    def file(self, name: str) -> Path:
        return self.root / name

    @classmethod
    def load(cls, root: str | os.PathLike[str], verify_checksums: bool = True) -> "ModelDir":
        root = Path(root)
        if not root.is_dir():
            raise FileProblem(root, "model directory not found")
        path = root / CONFIG_NAME
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileProblem(path, "missing: not an export directory (run tlm-export first)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise FileProblem(path, f"corrupt config: {err}") from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise FileProblem(path, f"not a {FORMAT} config")
        if config.get("format_version") != FORMAT_VERSION:
            raise FileProblem(path, f"format_version {config.get('format_version')!r} is not supported "
                              f"(this runtime reads {FORMAT_VERSION})")
        if _require(config, "task", str, path) not in TASK_KINDS:
            raise FileProblem(path, f"unknown task {config['task']!r}")
        for key in ("dims", "symbols", "generation", "graphs", "files", "source", "target"):
            _require(config, key, dict, path)
        for key in ("max_source_positions", "max_target_positions"):
            _require(config, key, int, path)
        for key in ("decoder_layers", "heads", "head_dim", "target_vocab"):
            _require(config["dims"], key, int, path)
        for key in ("bos", "pad", "eos", "unk"):
            _require(config["symbols"], key, int, path)
        files: dict[str, str] = config["files"]
        for name, digest in files.items():
            file = root / name
            if not file.is_file():
                raise FileProblem(file, f"missing (listed in {path})")
            if verify_checksums and sha256_file(file) != digest:
                raise FileProblem(file, f"corrupt: its SHA-256 differs from the one recorded in {path}")
        for precision, graphs in config["graphs"].items():
            if precision not in PRECISIONS or set(graphs) != {"encoder", "decoder"}:
                raise FileProblem(path, f"bad graphs entry {precision!r}")
            for name in graphs.values():
                if name not in files:
                    raise FileProblem(path, f"graph {name!r} is not listed under 'files'")
        if "float32" not in config["graphs"]:
            raise FileProblem(path, "no float32 graphs listed")
        model = cls(root, config, Dictionary([]), {})
        model._load_dictionaries(path)
        return model

    def _load_dictionaries(self, config_path: Path) -> None:
        dims, source = self.config["dims"], self.config["source"]
        self.target_dict = self._checked_dict(self.config["target"]["dictionary"], dims["target_vocab"], config_path)
        if self.task == "text":
            self.source_dicts = {"tokens": self._checked_dict(source["dictionary"], dims["source_vocab"], config_path)}
        else:
            names = source["dictionaries"]
            self.source_dicts = {
                field: self._checked_dict(names[field], dims["field_vocab"][field], config_path)
                for field in source["fields"]
            }

    def _checked_dict(self, name: str, size: int, config_path: Path) -> Dictionary:
        if name not in self.config["files"]:
            raise FileProblem(config_path, f"dictionary {name!r} is not listed under 'files'")
        dictionary = read_dictionary(self.root / name)
        if len(dictionary) != size:
            raise DictionaryMismatch(dictionary.path, f"has {len(dictionary)} symbols but the model's embedding has {size} rows")
        symbols = self.config["symbols"]
        for key in ("bos", "pad", "eos", "unk"):
            if getattr(dictionary, key) != symbols[key]:
                raise DictionaryMismatch(dictionary.path, f"special symbol {key} has id {getattr(dictionary, key)}, "
                                         f"the model uses {symbols[key]}")
        return dictionary


def write_config(root: Path, config: dict[str, Any]) -> None:
    """Record checksums of every listed file, then write ``config.json``."""
    config["files"] = {name: sha256_file(root / name) for name in sorted(config["files"])}
    with open(root / CONFIG_NAME, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2, ensure_ascii=False, sort_keys=True)
        handle.write("\n")
