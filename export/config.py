"""``config.json`` of an exported model directory, as typed dataclasses read with strict checks.

tlm-export writes it and every runtime reads it through :meth:`ExportConfig.from_json`, which checks
every key's type and the relations between keys (a text model has a tokenizer and one source
dictionary, a record model one dictionary per field, every listed file stays inside the model
directory) and reports the first problem as one line naming ``config.json`` and the dotted key, so
a hand-edited or truncated config fails at start-up instead of as a ``KeyError`` mid-request.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from tlm_fairseq.files import write_text_atomic

from .errors import ConfigProblem
from .search_options import OptionError, SearchOptions

CONFIG_NAME = "config.json"
FORMAT = "tlm-fairseq-onnx"
FORMAT_VERSION = 1
PRECISIONS = ("float32", "float16", "int8")
TOKENIZERS = ("zh_char", "space", "sentencepiece")  # text models; record models have "records"

Task = Literal["text", "records"]


@dataclass(frozen=True)
class Dims:
    """Sizes the runtime shapes its inputs and caches with."""

    encoder_layers: int
    decoder_layers: int
    heads: int
    head_dim: int
    embed_dim: int
    target_vocab: int
    source_vocab: int | None = None  # text models
    field_vocab: dict[str, int] | None = None  # record models: rows of each field's embedding


@dataclass(frozen=True)
class SpecialIds:
    bos: int
    pad: int
    eos: int
    unk: int


@dataclass(frozen=True)
class Source:
    """What a source is made of: ``tokens`` of one dictionary, or ``records`` of several fields."""

    kind: Literal["tokens", "records"]
    dictionary: str | None = None  # tokens
    fields: tuple[str, ...] | None = None  # records, in the order of the graph's last axis
    dictionaries: dict[str, str] | None = None  # records: field -> dictionary file
    max_records: int | None = None  # records kept per game (None: the model's positions)
    #: records: a pointer-generator model (its graphs take each record's extended id); written only
    #: when true, so that a runtime which cannot copy refuses such a directory by this key
    copy: bool = False


@dataclass(frozen=True)
class Target:
    dictionary: str


@dataclass(frozen=True)
class Tokenizer:
    kind: Literal["zh_char", "space", "sentencepiece", "records"]
    model: str | None = None  # sentencepiece: the model file


@dataclass(frozen=True)
class GraphPair:
    encoder: str
    decoder: str
    #: the decoder step over a cache updated in place (``export.inplace_graph``, CPU), sharing the
    #: decoder's weights; written only when present, so a runtime without it refuses the directory
    decoder_inplace: str | None = None


@dataclass(frozen=True)
class Agreement:
    """Measured at export (``export.agreement``): a graph pair's outputs against the float32 pair's."""

    sentences: int
    beam: int
    identical: float  # fraction of identical outputs
    mean_score_diff: float  # |score difference| over the identical ones
    max_score_diff: float
    sample: str  # where the sources came from: a data-bin split or "random"
    #: corpus BLEU of the outputs' token ids against the float32 ones' (100: all identical); it tells
    #: long outputs that part at near-ties (high) from broken graphs (low). Absent in older exports
    bleu: float | None = None


@dataclass(frozen=True)
class ExportConfig:
    """Everything the runtime needs to know about an export besides the files themselves."""

    task: Task
    arch: str
    opset: int
    dims: Dims
    symbols: SpecialIds
    source: Source
    target: Target
    tokenizer: Tokenizer
    max_source_positions: int
    max_target_positions: int
    generation: SearchOptions
    graphs: dict[str, GraphPair]  # precision -> graphs
    files: dict[str, str]  # every file of the directory -> SHA-256
    checkpoint: str | None = None
    checkpoint_sha256: str | None = None  # of the exported checkpoint, to tell which weights these are
    verified_max_logprob_diff: float | None = None
    quantization: str | None = None  # int8 graphs: "per-channel" or "per-tensor" weight scales
    int8_agreement: Agreement | None = None  # int8 vs float32 greedy outputs on a sample
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the config atomically (sorted keys, UTF-8)."""
        data = asdict(self)
        if not self.source.copy:
            del data["source"]["copy"]
        for pair in data["graphs"].values():
            if pair["decoder_inplace"] is None:
                del pair["decoder_inplace"]
        write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> "ExportConfig":
        """Read and check ``path``; any problem is a :class:`ConfigProblem` naming the key."""
        path = Path(path)
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise ConfigProblem(path, None, "missing: not an export directory (run tlm-export first)") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ConfigProblem(path, None, f"corrupt config: {err}") from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: str | os.PathLike[str]) -> "ExportConfig":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigProblem(path, "format", f"not a {FORMAT} config")
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigProblem(path, "format_version", f"format_version {data.get('format_version')!r} is not "
                                f"supported (this runtime reads {FORMAT_VERSION})")
        try:
            config = _read(cls, data, "")
            config._check()
        except _KeyProblem as err:
            raise ConfigProblem(path, err.key, err.message) from None
        return config

    def _check(self) -> None:
        """Relations between keys that the types alone do not express."""
        for name in self.files:
            _check_name("files", name)
        if "float32" not in self.graphs:
            raise _KeyProblem("graphs.float32", "missing key 'graphs.float32': every export has float32 graphs")
        for precision, pair in self.graphs.items():
            if precision not in PRECISIONS:
                raise _KeyProblem(f"graphs.{precision}", f"unknown precision {precision!r} under 'graphs' "
                                  f"(known: {', '.join(PRECISIONS)})")
            for which in ("encoder", "decoder", "decoder_inplace"):
                if getattr(pair, which) is not None:
                    self._listed(f"graphs.{precision}.{which}", getattr(pair, which))
        self._listed("target.dictionary", self.target.dictionary)
        sizes = {f"dims.{k}": v for k, v in vars(self.dims).items() if isinstance(v, int)}
        sizes.update({"max_source_positions": self.max_source_positions,
                      "max_target_positions": self.max_target_positions})
        for key, value in sizes.items():
            if value < 1:
                raise _KeyProblem(key, f"key '{key}': must be positive, got {value}")
        dims = self.dims
        if dims.heads * dims.head_dim != dims.embed_dim:  # fairseq's attention splits embed_dim evenly
            raise _KeyProblem("dims.embed_dim", f"key 'dims.embed_dim': {dims.embed_dim} is not dims.heads x "
                              f"dims.head_dim = {dims.heads} x {dims.head_dim}")
        digest = self.checkpoint_sha256
        if digest is not None and not (len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise _KeyProblem("checkpoint_sha256", f"key 'checkpoint_sha256': not a SHA-256 hex digest: {digest[:80]!r}")
        if self.task == "text":
            self._check_text()
        else:
            self._check_records()

    def _check_text(self) -> None:
        if self.source.kind != "tokens":
            raise _KeyProblem("source.kind", f"key 'source.kind': a text model reads 'tokens', not {self.source.kind!r}")
        self._listed("source.dictionary", _required(self.source.dictionary, "source.dictionary"))
        _required(self.dims.source_vocab, "dims.source_vocab")
        if self.source.copy:
            raise _KeyProblem("source.copy", "key 'source.copy': copying reads record values; a text model has none")
        if self.tokenizer.kind not in TOKENIZERS:
            raise _KeyProblem("tokenizer.kind", f"key 'tokenizer.kind': a text model needs one of "
                              f"{', '.join(TOKENIZERS)}, not {self.tokenizer.kind!r}")
        if self.tokenizer.kind == "sentencepiece":
            self._listed("tokenizer.model", _required(self.tokenizer.model, "tokenizer.model"))

    def _check_records(self) -> None:
        if self.source.kind != "records":
            raise _KeyProblem("source.kind", f"key 'source.kind': a record model reads 'records', not {self.source.kind!r}")
        if self.tokenizer.kind != "records":
            raise _KeyProblem("tokenizer.kind", f"key 'tokenizer.kind': a record model has 'records', "
                              f"not {self.tokenizer.kind!r}")
        fields = _required(self.source.fields, "source.fields")
        if not fields:
            raise _KeyProblem("source.fields", "key 'source.fields': no fields")
        dictionaries = _required(self.source.dictionaries, "source.dictionaries")
        vocab = _required(self.dims.field_vocab, "dims.field_vocab")
        kept = self.source.max_records
        if kept is not None and not 1 <= kept <= self.max_source_positions:
            raise _KeyProblem("source.max_records", f"key 'source.max_records': {kept} is outside "
                              f"[1, max_source_positions = {self.max_source_positions}]")
        for name in fields:
            self._listed(f"source.dictionaries.{name}", _required(dictionaries.get(name), f"source.dictionaries.{name}"))
            _required(vocab.get(name), f"dims.field_vocab.{name}")

    def _listed(self, key: str, name: str) -> None:
        _check_name(key, name)
        if name not in self.files:
            raise _KeyProblem(key, f"key '{key}': {name!r} is not listed under 'files'")

    def dictionary_sizes(self) -> dict[str, tuple[str, int]]:
        """Source dictionaries by role (``tokens`` or a field name) -> (file, embedding rows)."""
        if self.task == "text":
            assert self.source.dictionary is not None and self.dims.source_vocab is not None
            return {"tokens": (self.source.dictionary, self.dims.source_vocab)}
        assert self.source.fields and self.source.dictionaries and self.dims.field_vocab
        return {f: (self.source.dictionaries[f], self.dims.field_vocab[f]) for f in self.source.fields}


class _KeyProblem(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


def _required(value: Any, key: str) -> Any:
    if value is None:
        raise _KeyProblem(key, f"missing key '{key}'")
    return value


def _check_name(key: str, name: str) -> None:
    """A file name of the directory: relative, without ``..``, so nothing outside it is loaded."""
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or "\\" in name or ".." in parts:
        raise _KeyProblem(key, f"key '{key}': {name!r} is not a file name inside the model directory")


_JSON_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
               dict: "an object", type(None): "null"}


def _got(value: Any) -> str:
    shown = repr(value) if isinstance(value, (str, int, float, bool)) else ""
    return f"{_JSON_NAMES.get(type(value), type(value).__name__)}{f' ({shown[:40]})' if shown else ''}"


def _read(kind: Any, value: Any, key: str) -> Any:
    """``value`` (parsed JSON) as ``kind``, or :class:`_KeyProblem` naming ``key``."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (kind,) = [a for a in args if a is not type(None)]
        return _read(kind, value, key)
    if dataclasses.is_dataclass(kind):
        return _read_dataclass(kind, value, key)
    expected: str
    if origin is Literal:
        if value in args and isinstance(value, str):
            return value
        expected = "one of " + ", ".join(repr(a) for a in args)
    elif kind is bool or kind is str:
        if isinstance(value, kind):
            return value
        expected = _JSON_NAMES[kind]
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        expected = "an integer"
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        expected = "a finite number"
    elif origin is tuple:
        if isinstance(value, list):
            return tuple(_read(args[0], v, f"{key}.{i}") for i, v in enumerate(value))
        expected = "a list"
    elif origin is dict:
        if isinstance(value, dict):
            return {k: _read(args[1], v, f"{key}.{k}") for k, v in value.items()}
        expected = "an object"
    else:  # pragma: no cover - a type this reader was not taught
        raise TypeError(f"cannot read {kind!r}")
    raise _KeyProblem(key, f"key '{key}': expected {expected}, got {_got(value)}")


def _read_dataclass(cls: Any, value: Any, key: str) -> Any:
    if not isinstance(value, dict):
        raise _KeyProblem(key, f"key '{key}': expected an object, got {_got(value)}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for name in value:
        if name not in known:
            where = f"{key}.{name}" if key else name
            raise _KeyProblem(where, f"unknown key '{where}'")
    values = {}
    for name, f in known.items():
        where = f"{key}.{name}" if key else name
        if name in value:
            values[name] = _read(hints[name], value[name], where)
        elif f.default is dataclasses.MISSING:
            raise _KeyProblem(where, f"missing key '{where}'")
    made = cls(**values)
    if isinstance(made, SearchOptions):
        try:
            made.validate()
        except OptionError as err:
            raise _KeyProblem(f"{key}.{err.name}", f"key '{key}.{err.name}': {err.problem}") from None
    return made
