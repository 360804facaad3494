"""onnxruntime sessions for the exported encoder and decoder, and the per-batch decoder state.

Provider choice: CUDA is used only when onnxruntime lists it *and* a probe session really runs on
it (onnxruntime-gpu lists CUDA even where CUDA 13 / cuDNN 9 are missing and then silently falls
back to CPU after logging an error). The provider that actually runs is what ``provider`` reports.
On CUDA the decoder cache stays on the GPU between steps through I/O binding; on CPU plain numpy
inputs are as fast (onnxruntime wraps them without copying). On CPU an export's in-place decoder,
when it has one, runs instead of the concat one (``export.kv_cache``: one cache, not two).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .config import PRECISIONS
from .errors import ExportError, FileProblem
from .graph_io import (COPY_SOURCE, OOV_SLOTS, SRC_EXT, cache_names, cross_names, decoder_io, encoder_io,
                       inplace_decoder_io, past_names, present_names)
from .integrity import mismatched
from .kv_cache import inplace_decoder
from .model_dir import ModelDir
from .session_cache import open_session

log = logging.getLogger("tlm.runtime")

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
DEVICES = ("auto", "cpu", "cuda")
_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def _probe_model() -> bytes:
    """A one-node model (``y = x + x``, opset 13): enough to see whether a session really lands on CUDA.

    Kept as its serialized bytes so that starting on ``--device auto`` does not import onnx (about a
    tenth of a second); ``tests/export/test_startup.py`` rebuilds it with onnx and compares.
    """
    return PROBE_MODEL


PROBE_MODEL = bytes.fromhex(
    "08083a390a0e0a01780a01781201792203416464120570726f62655a0f0a0178120a0a08080112040a020801620f0a0179120a"
    "0a08080112040a02080142040a00100d")


def cuda_usable() -> tuple[bool, str]:
    """Whether a session really runs on CUDA here, and why not if it does not."""
    if CUDA not in ort.get_available_providers():
        return False, "this onnxruntime build has no CUDA provider"
    ort.set_default_logger_severity(4)  # the failed provider load logs a scary error; we report it below
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 4
        session = ort.InferenceSession(_probe_model(), options, providers=[CUDA, CPU])
        session.run(None, {"x": np.ones(1, np.float32)})
        if session.get_providers()[0] != CUDA:
            return False, "the CUDA provider failed to load (CUDA 13 and cuDNN 9 are required)"
        return True, ""
    except Exception as err:  # noqa: BLE001 - any failure means: not usable
        return False, f"CUDA session failed: {err}"
    finally:
        ort.set_default_logger_severity(2)  # onnxruntime's default (warnings)


def choose_provider(device: str) -> str:
    """``auto``: CUDA when usable, else CPU; ``cuda``: CUDA or an error; ``cpu``: CPU."""
    if device not in DEVICES:
        raise ExportError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return CPU
    ok, why = cuda_usable()
    if ok:
        return CUDA
    if device == "cuda":
        raise ExportError(f"--device cuda requested but {why}")
    log.info("CUDA not usable (%s); using CPU", why)
    return CPU


def session_options(threads: int) -> ort.SessionOptions:
    """Options of both sessions: sequential, fully optimized, quiet.

    Measured and left at onnxruntime's defaults: one arena shared by both sessions
    (``session.use_env_allocators``) grew to 3.7x the peak memory of a base-size beam search, and
    switching memory patterns or the arena off, or shrinking the arena after each encoder run, did
    not lower the peak, with either decoder (the cache is the peak; in-place, the arena no longer
    holds it).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


def _digests(model: ModelDir, paths: tuple[Path, ...]) -> tuple[str, ...] | None:
    """One digest per graph (its files' SHA-256s) naming it in the session cache, or None if the
    files on disk are not those ``config.json`` lists (a directory loaded without verification)."""
    files = model.config.files
    owned = [{n: files[n] for n in files if n == p.name or n.startswith(p.name + ".")} for p in paths]
    if any(mismatched(model.root, graph_files) for graph_files in owned):  # by stat when ModelDir.load verified
        return None
    return tuple(hashlib.sha256("".join(f[n] for n in sorted(f)).encode()).hexdigest() for f in owned)


@dataclass
class Sessions:
    """The two sessions of one model directory, on one provider, in one precision."""

    encoder: ort.InferenceSession
    decoder: ort.InferenceSession
    provider: str
    precision: str
    cache_dtype: type
    copy_vocab: int | None = None  # copy models: the target vocabulary size (extended ids start there)
    inplace: bool = False  # the decoder is the in-place graph (``export.kv_cache.InPlaceDecoderState``)

    @classmethod
    def open(cls, model: ModelDir, device: str = "auto", threads: int = 0, fp16: bool = False,
             precision: str | None = None, inplace: bool | None = None) -> "Sessions":
        """Sessions over ``model``'s graphs of ``precision`` (``fp16`` is the older spelling of float16).

        ``inplace``: the in-place decoder graph (None: on CPU when the export has one; see
        ``export.kv_cache.inplace_decoder``).
        """
        precision = precision or ("float16" if fp16 else "float32")
        if precision not in PRECISIONS:
            raise ExportError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        paths = (model.graph_path(precision, "encoder"), model.graph_path(precision, "decoder"))
        provider = choose_provider(device)
        copy_vocab = model.config.dims.target_vocab if model.config.source.copy else None
        twin = inplace_decoder(model, precision, provider == CPU, inplace)  # never for copy models
        if twin is None:
            return cls.create(*paths, model.config.dims.decoder_layers, provider, threads, precision,
                              _digests(model, paths), copy_vocab=copy_vocab)
        digests = _digests(model, (*paths, twin))  # the twin's weights are the concat decoder's files
        if digests is not None:
            digests = (digests[0], hashlib.sha256((digests[1] + digests[2]).encode()).hexdigest())
        return cls.create(paths[0], twin, model.config.dims.decoder_layers, provider, threads, precision, digests,
                          inplace=True)

    @classmethod
    def create(cls, encoder_path: Path, decoder_path: Path, layers: int, provider: str, threads: int = 0,
               precision: str = "float32", digests: tuple[str, ...] | None = None, inplace: bool = False,
               copy_vocab: int | None = None) -> "Sessions":
        """Sessions over two graph files (the exporter checks graphs it has not yet listed in a config).

        ``digests`` (of each graph's files) let CPU sessions come from the optimized-graph cache
        (``export.session_cache``); without them the graphs are optimized at every creation.
        ``copy_vocab``: a copy model's target vocabulary size (its graphs have the copy inputs).
        """
        if precision == "float16" and provider != CUDA:
            log.warning("float16 graphs on CPU: onnxruntime emulates most float16 kernels there, which is "
                        "slower than float32; float16 is meant for CUDA")
        if precision == "int8" and provider == CUDA:
            log.warning("int8 graphs on CUDA: onnxruntime runs dynamically quantized MatMuls on the CPU; "
                        "int8 is meant for CPU")
        providers = [CUDA, CPU] if provider == CUDA else [CPU]
        made = []
        for i, path in enumerate((encoder_path, decoder_path)):
            try:
                if digests is not None and provider == CPU:
                    made.append(open_session(path, digests[i], lambda: session_options(threads), CPU))
                else:
                    made.append(ort.InferenceSession(str(path), session_options(threads), providers=providers))
            except Exception as err:  # noqa: BLE001 - onnxruntime raises several unrelated types
                raise FileProblem(path, f"onnxruntime cannot load this graph: {err}") from None
        copy = copy_vocab is not None
        if copy and inplace:
            raise ExportError("copy models have no in-place decoder")
        step_io = inplace_decoder_io(layers) if inplace else decoder_io(layers, copy)
        for session, path, io in ((made[0], encoder_path, encoder_io(layers, copy)), (made[1], decoder_path, step_io)):
            names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
            if names != (io["input_names"], io["output_names"]):
                kind = "copy " if copy else ""
                raise FileProblem(path, f"graph inputs/outputs {names} are not the ones this runtime expects "
                                  f"for a {kind}model of {layers} layers; re-export with tlm-export")
        actual = made[1].get_providers()[0]
        if actual != provider:
            log.warning("requested %s but the session runs on %s", provider, actual)
        past = next(i for i in made[1].get_inputs() if i.name == (cache_names if inplace else past_names)(1)[0])
        cache_dtype = _ORT_DTYPES.get(past.type)
        if cache_dtype is None:
            raise FileProblem(decoder_path, f"unexpected cache type {past.type}")
        return cls(made[0], made[1], actual, precision, cache_dtype, copy_vocab, inplace)


class DecoderState:
    """One batch's encoder output and self-attention cache; implements ``search.StepModel``."""

    def __init__(self, sessions: Sessions, encoded: list[np.ndarray], heads: int, head_dim: int) -> None:
        self.sessions = sessions
        padding, *cross = encoded
        #: copy models: the records' encodings and extended ids (sliced with the sentences), and the
        #: batch's out-of-vocabulary slots, sized once per batch like fairseq's ``copy_size``
        self.copy: list[np.ndarray] = []
        self.oov_slots: np.ndarray | None = None
        if sessions.copy_vocab is not None:
            *cross, copy_source, src_ext = cross
            self.copy = [copy_source, src_ext]
            self.oov_slots = np.zeros(max(0, int(src_ext.max(initial=0)) + 1 - sessions.copy_vocab), np.float32)
        self.layers = len(cross) // 2
        self.src_padding = padding
        self.cross = cross
        empty = np.zeros((padding.shape[0], heads, 0, head_dim), dtype=sessions.cache_dtype)
        self.past = [empty] * (2 * self.layers)
        self.cross_names = cross_names(self.layers)
        self.past_names = past_names(self.layers)

    def keep_sentences(self, keep: np.ndarray) -> None:
        self.src_padding = np.ascontiguousarray(self.src_padding[keep])
        self.cross = [np.ascontiguousarray(c[keep]) for c in self.cross]
        self.copy = [np.ascontiguousarray(c[keep]) for c in self.copy]

    def copy_feeds(self) -> dict[str, np.ndarray]:
        """The copy model's extra decoder inputs (none for other models)."""
        if self.oov_slots is None:
            return {}
        return {COPY_SOURCE: self.copy[0], SRC_EXT: self.copy[1], OOV_SLOTS: self.oov_slots}

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        feeds = {"tokens": tokens.astype(np.int64, copy=False), "reorder": reorder.astype(np.int64, copy=False),
                 "src_padding": self.src_padding, **dict(zip(self.cross_names, self.cross)),
                 **dict(zip(self.past_names, self.past)), **self.copy_feeds()}
        lprobs, *self.past = self.sessions.decoder.run(None, feeds)
        return lprobs


class BoundDecoderState(DecoderState):
    """The same with I/O binding: caches and encoder output stay on the session's device."""

    def __init__(self, sessions: Sessions, encoded: list[np.ndarray], heads: int, head_dim: int) -> None:
        super().__init__(sessions, encoded, heads, head_dim)
        self.device = "cuda" if sessions.provider == CUDA else "cpu"
        self.present_names = present_names(self.layers)
        self._past_values: list[ort.OrtValue] | None = None  # the empty first cache goes in from the host
        self._upload_encoder()

    def _upload_encoder(self) -> None:
        arrays = {"src_padding": self.src_padding, **dict(zip(self.cross_names, self.cross)), **self.copy_feeds()}
        arrays.pop(OOV_SLOTS, None)  # a shape, fed from the host at every step
        self._device_inputs = {name: ort.OrtValue.ortvalue_from_numpy(array, self.device, 0)
                               for name, array in arrays.items()}

    def keep_sentences(self, keep: np.ndarray) -> None:
        super().keep_sentences(keep)
        self._upload_encoder()

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        binding = self.sessions.decoder.io_binding()
        binding.bind_cpu_input("tokens", tokens.astype(np.int64, copy=False))
        binding.bind_cpu_input("reorder", reorder.astype(np.int64, copy=False))
        if self.oov_slots is not None:
            binding.bind_cpu_input(OOV_SLOTS, self.oov_slots)
        for name, value in self._device_inputs.items():
            binding.bind_ortvalue_input(name, value)
        for i, name in enumerate(self.past_names):
            if self._past_values is None:
                binding.bind_cpu_input(name, self.past[i])
            else:
                binding.bind_ortvalue_input(name, self._past_values[i])
        binding.bind_output("lprobs", "cpu")
        for name in self.present_names:
            binding.bind_output(name, self.device)
        self.sessions.decoder.run_with_iobinding(binding)
        lprobs, *self._past_values = binding.get_outputs()
        return lprobs.numpy()


def encode(sessions: Sessions, src: np.ndarray) -> list[np.ndarray]:
    """Run the encoder on a padded source batch: ``[src_padding, cross key/value per layer...]``.

    A copy model's records carry each record's extended id as a last column, which the encoder does
    not read: it returns ``[..., copy_source, src_ext]``, what :class:`DecoderState` takes.
    """
    if sessions.copy_vocab is None:
        return sessions.encoder.run(None, {"src": src})
    src_ext = np.ascontiguousarray(src[..., -1])
    return [*sessions.encoder.run(None, {"src": np.ascontiguousarray(src[..., :-1])}), src_ext]


def pad_sources(sources: list[np.ndarray], pad: int) -> np.ndarray:
    """One batch: sources ``(S,)`` or records ``(S, F)`` padded with ``pad`` to the longest."""
    longest = max(len(s) for s in sources)
    src = np.full((len(sources), longest, *sources[0].shape[1:]), pad, dtype=np.int64)
    for row, s in enumerate(sources):
        src[row, : len(s)] = s
    return src
