"""onnxruntime's fully optimized CPU graphs, saved on the first start and loaded on later ones.

Most of a CPU session's creation goes into optimizing the graph and repacking every weight matrix
into the layout of this CPU's matrix kernels; the repacked copies also double the weights' memory
while the originals are alive. onnxruntime can save the result (``ORT_ENABLE_ALL`` optimizations with
the repacked weights in the external data file) and load it again without redoing either, mapping
the weights from the file. That result is specific to the onnxruntime version, the execution
provider and the processor (its instruction set decides the packing), so it is never shipped in an
export: it is kept per machine in a cache folder keyed by all of them and by the source graph's
SHA-256, and verified like the export itself (``export.integrity``: hashed once, then by stat)
before it is loaded. Anything odd about the cache falls back to the source graph.
"""
from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import onnxruntime as ort

from .integrity import cache_dir, mismatched, sha256_file
from .memory import give_back_freed_memory

log = logging.getLogger("tlm.runtime")

GRAPH, DATA, MANIFEST = "graph.onnx", "graph.onnx.data", "manifest.json"
CACHE_VERSION = "1"
KEEP = 8  # cached graphs kept; the least recently used beyond that are removed when one is added


@lru_cache(maxsize=1)
def processor() -> str | None:
    """What decides the weight packing: the machine and its instruction-set flags (None: unknown)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = next((line.split(":", 1)[1] for line in handle if line.startswith(("flags", "Features"))), None)
    except OSError:
        return None
    if flags is None:
        return None
    return f"{platform.machine()}:{hashlib.sha256(' '.join(sorted(flags.split())).encode()).hexdigest()[:16]}"


def cache_key(digest: str, provider: str) -> str | None:
    cpu = processor()
    if cpu is None:
        return None
    return hashlib.sha256(f"{CACHE_VERSION}|{digest}|{ort.__version__}|{provider}|{cpu}".encode()).hexdigest()[:32]


def _save_options(options: ort.SessionOptions, folder: Path) -> None:
    options.optimized_model_filepath = str(folder / GRAPH)
    options.add_session_config_entry("session.optimized_model_external_initializers_file_name", DATA)
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    options.add_session_config_entry("session.save_external_prepacked_constant_initializers", "1")


def open_session(source: Path, digest: str, make_options: Callable[[], ort.SessionOptions], provider: str
                 ) -> ort.InferenceSession:
    """A session over ``source`` (SHA-256 ``digest``) on ``provider``, from the cache when it holds one.

    Only CPU sessions are cached (other providers do not repack weights). A miss creates the session
    from ``source`` and saves the optimized graph on the way, so the first start pays once.
    """
    key = cache_key(digest, provider) if provider == "CPUExecutionProvider" else None
    if key is None:
        return ort.InferenceSession(str(source), make_options(), providers=[provider])
    folder = cache_dir() / "onnxruntime" / key
    session = _load_cached(folder, make_options, provider)
    if session is not None:
        return session
    return _create_and_save(source, folder, make_options, provider)


def _load_cached(folder: Path, make_options: Callable[[], ort.SessionOptions], provider: str) -> ort.InferenceSession | None:
    try:
        expected = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        if set(expected) != {GRAPH, DATA} or mismatched(folder, expected):
            log.warning("the optimized-graph cache %s is damaged; using the exported graph", folder)
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not cached yet (or unreadable): build it
    return _open_cached(folder, make_options, provider)


def _open_cached(folder: Path, make_options: Callable[[], ort.SessionOptions], provider: str) -> ort.InferenceSession | None:
    """A session over the verified cached graph in ``folder`` (None, with a warning, if it will not load)."""
    options = make_options()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # already optimized
    try:
        session = ort.InferenceSession(str(folder / GRAPH), options, providers=[provider])
    except Exception as err:  # noqa: BLE001 - onnxruntime raises several unrelated types
        log.warning("cannot load the optimized-graph cache %s (%s); using the exported graph", folder, err)
        return None
    try:
        (folder / MANIFEST).touch()  # recently used: kept by _evict
    except OSError:
        pass
    return session


def _evict(root: Path) -> None:
    """Remove the least recently used cached graphs beyond :data:`KEEP` (only folders this cache wrote)."""
    import shutil

    used = []
    for entry in root.iterdir():
        try:
            used.append(((entry / MANIFEST).stat().st_mtime_ns, entry))
        except OSError:  # not ours, or removed meanwhile by another process
            continue
    for _, entry in sorted(used, reverse=True)[KEEP:]:
        shutil.rmtree(entry, ignore_errors=True)


def _create_and_save(source: Path, folder: Path, make_options: Callable[[], ort.SessionOptions], provider: str
                     ) -> ort.InferenceSession:
    from tlm_fairseq.files import atomic_dir, write_text_atomic

    def ours(path: Path) -> bool:  # a folder of this cache (an earlier, damaged entry) may be rebuilt
        return not any(path.iterdir()) or (path / MANIFEST).exists() or (path / GRAPH).exists()

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(folder, ours) as building:
            options = make_options()
            _save_options(options, building)
            built = ort.InferenceSession(str(source), options, providers=[provider])
            files = {name: sha256_file(building / name) for name in (GRAPH, DATA)}
            write_text_atomic(building / MANIFEST, json.dumps({"source": str(source), "files": files}) + "\n")
        _evict(folder.parent)
    except OSError as err:  # a read-only home: run from the exported graph, uncached
        log.debug("cannot cache the optimized graph of %s: %s", source, err)
        return ort.InferenceSession(str(source), make_options(), providers=[provider])
    # The session that built the cache holds every weight in private memory for as long as it
    # lives; the cached graph maps them from the file instead, so serve from that one (just written
    # and hashed above: not verified a second time).
    cached = _open_cached(folder, make_options, provider)
    if cached is None:
        return built
    del built
    give_back_freed_memory()
    return cached
