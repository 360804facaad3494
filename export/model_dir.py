"""The exported model directory: ``config.json`` plus the files it lists, checked on load.

Every file the runtime needs is listed in the config with its SHA-256, so a missing, truncated or
swapped file is reported by name before onnxruntime ever sees it (hashed once, then checked by stat:
``export.integrity``). tlm-export builds the directory
with ``tlm_fairseq.files.atomic_dir``, so an interrupted export leaves nothing half-written.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .config import CONFIG_NAME, FORMAT, ExportConfig
from .dictionary import Dictionary, read_dictionary
from .errors import DictionaryMismatch, FileProblem
from .integrity import mismatched, sha256_file  # noqa: F401 - sha256_file is used from here too
from .search_options import SearchOptions


def is_export_dir(path: Path) -> bool:
    """Whether ``path`` holds a tlm-export output (``--force`` may replace only such a folder)."""
    try:
        head = (path / CONFIG_NAME).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return f'"{FORMAT}"' in head


@dataclass
class ModelDir:
    """A loaded, verified export directory."""

    root: Path
    config: ExportConfig
    target_dict: Dictionary = field(init=False)
    source_dicts: dict[str, Dictionary] = field(init=False)  # "tokens" for text models, one per record field

    @property
    def task(self) -> str:
        return self.config.task

    @property
    def generation(self) -> SearchOptions:
        return self.config.generation

    def graph_path(self, precision: str, which: str) -> Path:
        graphs = self.config.graphs
        if precision not in graphs:
            raise FileProblem(self.root / CONFIG_NAME, f"no {precision} graphs in this export "
                              f"(it has {', '.join(sorted(graphs))}; re-export with --fp16 for float16, --quantize int8 for int8)")
        return self.root / getattr(graphs[precision], which)

    def file(self, name: str) -> Path:
        return self.root / name

    @classmethod
    def load(cls, root: str | os.PathLike[str], verify_checksums: bool = True) -> "ModelDir":
        root = Path(root)
        if not root.is_dir():
            raise FileProblem(root, "model directory not found")
        path = root / CONFIG_NAME
        config = ExportConfig.from_json(path)
        for name in config.files:
            file = root / name
            if not file.is_file():
                raise FileProblem(file, f"missing (listed in {path})")
        bad = mismatched(root, config.files) if verify_checksums else []  # hashed once, then checked by stat
        if bad:
            raise FileProblem(root / bad[0], f"corrupt: its SHA-256 differs from the one recorded in {path}")
        model = cls(root, config)
        model.target_dict = model._checked_dict(config.target.dictionary, config.dims.target_vocab)
        model.source_dicts = {role: model._checked_dict(name, rows)
                              for role, (name, rows) in config.dictionary_sizes().items()}
        return model

    def _checked_dict(self, name: str, size: int) -> Dictionary:
        dictionary = read_dictionary(self.root / name)
        if len(dictionary) != size:
            raise DictionaryMismatch(dictionary.path, f"has {len(dictionary)} symbols but the model's embedding has {size} rows")
        for key, wanted in vars(self.config.symbols).items():
            if getattr(dictionary, key) != wanted:
                raise DictionaryMismatch(dictionary.path, f"special symbol {key} has id {getattr(dictionary, key)}, "
                                         f"the model uses {wanted}")
        return dictionary
