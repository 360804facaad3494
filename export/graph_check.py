"""Check an export's ``config.json`` against the graphs it names, once, before anything is served.

The runtime shapes its caches with the config's head count and head size, bounds inputs by its
positions and trusts its vocabulary sizes. A config that disagrees with the graphs (hand-edited,
or graphs copied from another export) would load and then fail every request with an onnxruntime
error, so the disagreement is reported here as one line naming ``config.json`` and the key:

* the shapes the graphs declare for their inputs and outputs: heads and head size of every cache,
  the target vocabulary of ``lprobs``, the source layout (a token graph vs a record graph);
* a probe: the encoder runs on a source holding each dictionary's largest id, then on one of
  ``max_source_positions`` symbols; the decoder runs one step with the largest target id, then one
  at position ``max_target_positions - 1``. A position table or embedding smaller than the
  config claims fails there instead of on the first long request.

The probe costs one short and one full-length encoder run and two decoder steps.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnxruntime as ort

from .config import CONFIG_NAME
from .errors import ConfigProblem
from .graph_io import COPY_SOURCE, OOV_SLOTS, SRC_EXT, cache_names, cross_names, past_names, present_names, written_names
from .model_dir import ModelDir
from .runtime import Sessions


def check_graphs(model: ModelDir, sessions: Sessions) -> None:
    """Raise :class:`ConfigProblem` naming the first key of ``config.json`` the graphs contradict."""
    GraphCheck(model, sessions).run()


class GraphCheck:
    def __init__(self, model: ModelDir, sessions: Sessions) -> None:
        self.model, self.sessions, self.cfg = model, sessions, model.config
        pair = self.cfg.graphs[sessions.precision]
        self.encoder_name, self.decoder_name = pair.encoder, pair.decoder_inplace if sessions.inplace else pair.decoder
        self.quiet = ort.RunOptions()
        self.quiet.log_severity_level = 4  # a failing probe is reported below, in one line
        # the full-length probes would otherwise leave the CPU arena at their size for the process's life
        self.quiet.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def problem(self, key: str, message: str) -> ConfigProblem:
        return ConfigProblem(self.model.root / CONFIG_NAME, key, f"key '{key}': {message}")

    def run(self) -> None:
        self.check_source_layout()
        self.check_caches()
        self.check_lprobs()
        encoded = self.probe_encoder()
        self.probe_decoder(encoded)

    # -- declared shapes ------------------------------------------------------------------------

    def check_source_layout(self) -> None:
        src = self.sessions.encoder.get_inputs()[0]
        rank = len(src.shape)
        fields = self.cfg.source.fields or ()
        want = 2 if self.cfg.task == "text" else 3
        if rank != want:
            other = {2: "text (token)", 3: "record"}.get(rank, f"{rank}-d")
            raise self.problem("task", f"{self.cfg.task!r}, but {self.encoder_name} reads {other} sources "
                               f"(input 'src' has shape {_shape(src.shape)}): a graph of another kind of model")
        if want == 3 and isinstance(src.shape[2], int) and src.shape[2] != len(fields):
            raise self.problem("source.fields", f"{len(fields)} fields, but {self.encoder_name} reads "
                               f"{src.shape[2]} per record (input 'src' has shape {_shape(src.shape)})")

    def check_caches(self) -> None:
        layers = self.cfg.dims.decoder_layers
        declared = [(self.encoder_name, io) for io in self.sessions.encoder.get_outputs() if io.name in cross_names(layers)]
        caches = {*past_names(layers), *present_names(layers), *cache_names(layers), *written_names(layers)}
        declared += [(self.decoder_name, io) for io in (*self.sessions.decoder.get_inputs(),
                                                        *self.sessions.decoder.get_outputs()) if io.name in caches]
        for graph, io in declared:  # (rows, H, length, Dh)
            for axis, key, what in ((1, "heads", "heads"), (3, "head_dim", "values per head")):
                size, wanted = io.shape[axis], getattr(self.cfg.dims, key)
                if isinstance(size, int) and size != wanted:
                    raise self.problem(f"dims.{key}", f"{wanted}, but {graph}'s {io.name} has {size} {what} "
                                       f"(shape {_shape(io.shape)})")

    def check_lprobs(self) -> None:
        lprobs = self.sessions.decoder.get_outputs()[0]
        vocab = self.cfg.dims.target_vocab
        if isinstance(lprobs.shape[-1], int) and lprobs.shape[-1] != vocab:  # a copy model's width is dynamic
            raise self.problem("dims.target_vocab", f"{vocab}, but {self.decoder_name} scores {lprobs.shape[-1]} "
                               f"symbols (output 'lprobs' has shape {_shape(lprobs.shape)})")

    # -- probe ----------------------------------------------------------------------------------

    def source(self, length: int, largest: bool) -> np.ndarray:
        """A one-sentence source: each position holds the largest id (or ``<unk>``) of its dictionary."""
        unk, eos = self.cfg.symbols.unk, self.cfg.symbols.eos
        if self.cfg.task == "text":
            assert self.cfg.dims.source_vocab is not None
            ids = np.full(length, self.cfg.dims.source_vocab - 1 if largest else unk, dtype=np.int64)
            ids[-1] = eos
            return ids[None, :]
        sizes = self.cfg.dictionary_sizes()
        row = [sizes[f][1] - 1 if largest else unk for f in self.cfg.source.fields or ()]
        return np.tile(np.asarray(row, dtype=np.int64), (1, length, 1))

    def run_graph(self, session: ort.InferenceSession, feeds: dict[str, Any], key: str, why: str) -> list[np.ndarray]:
        try:
            return session.run(None, feeds, self.quiet)
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own unrelated types
            raise self.problem(key, f"{why}: {_reason(err)}") from None

    def probe_encoder(self) -> list[np.ndarray]:
        """The encoder's output for a short source (kept for the decoder probe)."""
        vocab_key = "dims.source_vocab" if self.cfg.task == "text" else "dims.field_vocab"
        encoded = self.run_graph(self.sessions.encoder, {"src": self.source(2, largest=True)}, vocab_key,
                                 f"{self.encoder_name} cannot embed the largest source id of each dictionary")
        longest = self.cfg.max_source_positions
        self.run_graph(self.sessions.encoder, {"src": self.source(longest, largest=False)}, "max_source_positions",
                       f"{longest}, but {self.encoder_name} fails on a source that long (its position table is shorter)")
        return encoded

    def probe_decoder(self, encoded: Sequence[np.ndarray]) -> None:
        dims, layers = self.cfg.dims, self.cfg.dims.decoder_layers
        padding, *cross = encoded
        copy: dict[str, np.ndarray] = {}
        if self.cfg.source.copy:  # every record copies to <unk>; no out-of-vocabulary slots
            *cross, source = cross
            copy = {COPY_SOURCE: source, SRC_EXT: np.full(padding.shape, self.cfg.symbols.unk, np.int64),
                    OOV_SLOTS: np.zeros(0, np.float32)}
        fixed = {"reorder": np.zeros(1, np.int64), "src_padding": padding, **dict(zip(cross_names(layers), cross)),
                 **copy}

        def step(token: int, position: int, key: str, why: str) -> np.ndarray:
            past = np.zeros((1, dims.heads, position, dims.head_dim), dtype=self.sessions.cache_dtype)
            feeds = {"tokens": np.asarray([token], np.int64), **fixed, **{name: past for name in past_names(layers)}}
            if self.sessions.inplace:  # buffers with room for the new position; onnxruntime writes a copy
                buffer = np.zeros((1, dims.heads, position + 1, dims.head_dim), dtype=self.sessions.cache_dtype)
                feeds = {"tokens": feeds["tokens"], "step": np.asarray(position, np.int64), "src_padding": padding,
                         **dict(zip(cross_names(layers), cross)), **{name: buffer for name in cache_names(layers)}}
            return self.run_graph(self.sessions.decoder, feeds, key, why)[0]

        lprobs = step(dims.target_vocab - 1, 0, "dims.target_vocab",
                      f"{dims.target_vocab}, but {self.decoder_name} cannot embed target id {dims.target_vocab - 1}")
        if lprobs.shape != (1, dims.target_vocab):
            raise self.problem("dims.target_vocab", f"{dims.target_vocab}, but {self.decoder_name} returned "
                               f"log-probabilities of shape {list(lprobs.shape)}")
        last = self.cfg.max_target_positions - 1
        step(self.cfg.symbols.unk, last, "max_target_positions",
             f"{last + 1}, but {self.decoder_name} fails at position {last} (its position table is shorter)")


def _shape(shape: Sequence[Any]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _reason(err: Exception) -> str:
    """onnxruntime's status message without its prefix, on one line."""
    text = " ".join(str(err).split())
    return text.split("Status Message: ", 1)[-1].split(" : ", 3)[-1][:300]
