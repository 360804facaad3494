"""Load a fairseq checkpoint for export, turning every failure into an error that names a file.

Importing ``tlm_fairseq`` registers the project's models and tasks and allowlists the argparse /
omegaconf types that torch's ``weights_only`` loading must accept in a fairseq checkpoint. The
archive's zip CRCs are checked first (torch does not), so corrupted weights never export, and the
checkpoint's SHA-256 goes into ``config.json`` to say which weights an export holds.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from preprocess.rotowire.records import RECORD_FIELDS

from .errors import DictionaryMismatch, FileProblem, UnsupportedModel
from .model_dir import sha256_file


@dataclass
class LoadedCheckpoint:
    model: nn.Module
    task: Any
    cfg: Any
    arch: str
    path: Path
    data: Path
    sha256: str  # of the checkpoint file, recorded in config.json

    @property
    def reads_records(self) -> bool:
        return hasattr(self.model.encoder, "embed_fields")

    def dictionary_files(self) -> dict[str, Path]:
        """Where the task read each dictionary: ``source``/``target`` or one per record field + ``target``."""
        if self.reads_records:
            files = {name: self.data / f"dict.{name}.txt" for name in RECORD_FIELDS}
            files["target"] = self.data / "dict.tgt.txt"
            return files
        return _text_dictionaries(getattr(self.task, "cfg", self.cfg.task), self.data)


def _text_dictionaries(task_cfg: Any, data: Path) -> dict[str, Path]:
    src, tgt = getattr(task_cfg, "source_lang", None), getattr(task_cfg, "target_lang", None)
    if not src or not tgt:  # fairseq infers them from the binarized file names, as translation does
        from fairseq.data.data_utils import infer_language_pair

        src, tgt = infer_language_pair(str(data))
    if not src or not tgt:
        raise FileProblem(data, "the checkpoint's task does not name source and target languages")
    return {"source": data / f"dict.{src}.txt", "target": data / f"dict.{tgt}.txt"}


def _arch_of(cfg: Any) -> str:
    """The architecture name of a checkpoint's config (argparse Namespace or omegaconf node)."""
    try:
        model_cfg = cfg["model"]
    except (KeyError, TypeError):
        return "<unknown>"
    for key in ("arch", "_name"):
        value = getattr(model_cfg, key, None)
        if value is None and hasattr(model_cfg, "get"):
            value = model_cfg.get(key)
        if value:
            return str(value)
    return "<unknown>"


def _mismatch_file(message: str, files: dict[str, Path]) -> Path | None:
    """The dictionary behind a ``size mismatch for <param>`` error from ``load_state_dict``."""
    match = re.search(r"size mismatch for ([\w.]+)", message)
    if not match:
        return None
    name = match.group(1)
    field = re.match(r"encoder\.embed_fields\.(\d+)\.", name)
    if field and int(field.group(1)) + 1 < len(RECORD_FIELDS):
        return files.get(RECORD_FIELDS[int(field.group(1)) + 1])
    if name.startswith("encoder.embed_tokens"):
        return files.get("source") or files.get("value")
    if name.startswith("decoder.embed_tokens") or name.startswith("decoder.output_projection"):
        return files.get("target")
    return None


def load_for_export(checkpoint: str | os.PathLike[str], data: str | os.PathLike[str]) -> LoadedCheckpoint:
    """The model in eval mode with its task; raises FileProblem subclasses naming the culprit."""
    import tlm_fairseq
    from tlm_fairseq.checkpoints import CheckpointError, verify_archive

    tlm_fairseq.register()  # models/tasks, checkpoint allowlist
    from fairseq import checkpoint_utils
    from fairseq.models import ARCH_MODEL_REGISTRY
    from fairseq.models.transformer import TransformerModel

    path, data = Path(checkpoint), Path(data)
    if not path.is_file():
        raise FileProblem(path, "checkpoint not found")
    if not data.is_dir():
        raise FileProblem(data, "data directory not found (give the fairseq data-bin the model was trained on)")
    try:
        verify_archive(str(path))
    except CheckpointError as err:
        raise FileProblem(path, str(err).removeprefix(f"{path}: ")) from None
    digest = sha256_file(path)
    overrides = {"data": str(data)}
    try:
        state = checkpoint_utils.load_checkpoint_to_cpu(str(path), overrides)
    except Exception as err:  # noqa: BLE001 - torch/pickle/zip raise many types for a bad file
        raise FileProblem(path, f"cannot read checkpoint ({type(err).__name__}: {err})") from None
    cfg = state.get("cfg") if isinstance(state, dict) else None
    if cfg is None or "model" not in state:
        raise FileProblem(path, "not a fairseq checkpoint (no 'cfg' or 'model' entry)")
    arch = _arch_of(cfg)
    model_cls = ARCH_MODEL_REGISTRY.get(arch)
    if model_cls is None or not issubclass(model_cls, TransformerModel):
        kind = "unknown" if model_cls is None else model_cls.__name__
        raise UnsupportedModel(path, f"architecture {arch!r} ({kind}) is not supported: tlm-export handles "
                               "fairseq's transformer family (transformer, tlm_transformer*, tlm_transformer_rotowire)")
    try:
        models, cfg, task = checkpoint_utils.load_model_ensemble_and_task([str(path)], overrides, state=state)
    except FileNotFoundError as err:
        missing = err.filename or str(err)
        raise FileProblem(missing if err.filename else data, f"needed by the checkpoint's task: {err}") from None
    except RuntimeError as err:
        files = _text_dictionaries(cfg.task, data) if not getattr(model_cls, "reads_records", False) else {
            **{n: data / f"dict.{n}.txt" for n in RECORD_FIELDS}, "target": data / "dict.tgt.txt"}
        culprit = _mismatch_file(str(err), files)
        if culprit is not None:
            raise DictionaryMismatch(culprit, f"does not match the checkpoint {path}: {str(err).splitlines()[-1].strip()}") from None
        raise FileProblem(path, f"cannot build the model: {err}") from None
    except (ValueError, KeyError, AttributeError, AssertionError) as err:
        if "joined dictionary" in str(err):  # --share-all-embeddings but the dictionaries now differ
            files = _text_dictionaries(cfg.task, data)
            raise DictionaryMismatch(files["target"], f"differs from {files['source']}, but the checkpoint {path} "
                                     "shares one embedding between them (--share-all-embeddings)") from None
        raise FileProblem(path, f"cannot build the model ({type(err).__name__}: {err})") from None
    model = models[0].eval()
    return LoadedCheckpoint(model, task, cfg, arch, path, data, digest)
