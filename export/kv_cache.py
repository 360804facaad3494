"""One batch's decoder state over the in-place decoder graph (``export.inplace_graph``), on CPU.

The self-attention cache is one buffer per layer for keys and one for values, ``(rows, H,
capacity, Dh)``, each bound through I/O binding as both the graph's input and its output, so
onnxruntime writes the new position into it and nothing cache-sized is allocated per step. Between
steps the beams are reordered here, copying only the rows that must move (:meth:`_reorder`), a
few sentences at a time, so the extra memory is a fraction of one buffer.

The buffers are packed (no gap between one row and head's positions and the next one's) and grow
in place by a few positions at a time (``mremap``, then the blocks move up), so the resident cache
stays within a few positions of what the search has written. A page-aligned block per row and
head, which would never move, keeps up to a page per block resident beyond the written part: about
60 MB more at beam 5, batch 32, base size. The maps come from :data:`POOL` and go back to it when
the batch is done, so the next batch writes into pages already resident instead of faulting in
and zeroing fresh ones.
"""
from __future__ import annotations

import mmap
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from .errors import ExportError
from .graph_io import cache_names, cross_names, written_names

if TYPE_CHECKING:
    from .model_dir import ModelDir

GROWTH = 8  # positions a buffer starts with and grows by at least (an eighth of its capacity later)
REORDER_PARTS = 8  # beams are reordered in about this many runs; the temporary is one run's rows
MOVE_CHUNK = 256  # (row, head) blocks moved per numpy call when a buffer grows


def inplace_decoder(model: "ModelDir", precision: str, cpu: bool, wanted: bool | None) -> Path | None:
    """The in-place decoder graph to run, or None for the concat one.

    ``wanted`` None: the in-place graph whenever the export has one for ``precision`` and the
    sessions run on CPU (the graph binds host memory; CUDA keeps the concat graph and its device
    cache); True: that graph or an error saying why not; False: never.
    """
    name = model.config.graphs[precision].decoder_inplace
    if wanted is False or (wanted is None and (name is None or not cpu)):
        return None
    if name is None:
        raise ExportError(f"{model.root}: no in-place decoder for {precision} in this export "
                          "(re-export with this version of tlm-export)")
    if not cpu:
        raise ExportError("the in-place decoder runs on CPU only")
    return model.root / name


class MapPool:
    """Anonymous maps a finished batch's cache leaves for the next batch, with their pages resident.

    A batch's cache is written into fresh memory otherwise: a page fault per 4 KiB, the system
    zeroing each page, then unmapping it all when the batch ends, about a tenth of a base-size
    beam search's time. Kept maps hold the largest cache of a recent batch, as onnxruntime's
    arena holds its largest tensors; at most ``keep`` are kept (two searches of a 6-layer model).
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._maps: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> mmap.mmap:
        """A map of at least ``size`` bytes: a kept one (grown if need be) or a new one."""
        with self._lock:
            kept = self._maps.pop() if self._maps else None
        if kept is not None:
            if len(kept) >= size:
                return kept
            try:
                kept.resize(size)
                return kept
            except (BufferError, OSError, ValueError):  # a view of it still exists: leave it
                pass
        return mmap.mmap(-1, max(size, mmap.PAGESIZE), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)

    def give(self, maps: list[mmap.mmap]) -> None:
        with self._lock:
            self._maps.extend(maps[: max(0, self.keep - len(self._maps))])


POOL = MapPool(keep=24)


class CacheBuffer:
    """``(rows, H, capacity, Dh)`` over an anonymous map from :data:`POOL`."""

    def __init__(self, rows: int, heads: int, capacity: int, head_dim: int, dtype: Any) -> None:
        self.rows, self.heads, self.capacity, self.head_dim = rows, heads, capacity, head_dim
        self.dtype = np.dtype(dtype)
        self._map = POOL.take(self._bytes(rows, capacity))
        self._view()

    def _bytes(self, rows: int, capacity: int) -> int:
        return rows * self.heads * capacity * self.head_dim * self.dtype.itemsize

    def _view(self) -> None:
        count = self.rows * self.heads * self.capacity * self.head_dim
        self.array = np.frombuffer(self._map, self.dtype, count).reshape(
            self.rows, self.heads, self.capacity, self.head_dim)

    def _fit(self, size: int) -> None:
        """Grow the map to ``size`` bytes; no view of it may exist (``mremap`` may move it)."""
        if len(self._map) < size:
            self._map.resize(size)

    def spread(self, rows: int, slots: np.ndarray, sources: np.ndarray, length: int) -> None:
        """``rows`` rows now (more than before): row ``slots[i]`` takes old row ``sources[i]``.

        Used when a search adds beams after its first step, so the copy is of one position.
        """
        kept = self.array[sources, :, :length]
        del self.array
        self.rows = rows
        self._fit(self._bytes(rows, self.capacity))
        self._view()
        self.array[slots, :, :length] = kept

    def grow(self, capacity: int, rows: int, length: int) -> None:
        """Room for ``capacity`` positions, keeping the first ``length`` of the first ``rows`` rows.

        The map grows in place and the blocks move up, the last one first: a block's new place
        lies past every lower block's old one, so nothing is overwritten before it has moved.
        """
        old = self.capacity
        del self.array
        self._fit(self._bytes(self.rows, capacity))
        flat = np.frombuffer(self._map, self.dtype)
        blocks, width = rows * self.heads, self.head_dim
        source = flat[: blocks * old * width].reshape(blocks, old, width)[:, :length]
        target = flat[: blocks * capacity * width].reshape(blocks, capacity, width)[:, :length]
        for end in range(blocks, 0, -MOVE_CHUNK):
            start = max(0, end - MOVE_CHUNK)
            target[start:end] = source[start:end]  # numpy copies through a temporary where they overlap
        del flat, source, target
        self.capacity = capacity
        self._view()

    def detach(self) -> mmap.mmap:
        """The map, for :data:`POOL`; the buffer is unusable afterwards."""
        del self.array
        return self._map


def _give_back(buffers: list[CacheBuffer]) -> None:
    POOL.give([buffer.detach() for buffer in buffers])


def independent_runs(moved: np.ndarray, sources: np.ndarray, parts: int) -> list[slice]:
    """Runs of ``moved`` (ascending rows, row ``moved[i]`` takes row ``sources[i]``) that can be
    copied one after another: about ``parts`` of them where the rows allow.

    A cut is allowed where every later source lies past every earlier destination, so no run
    reads a row that an earlier run overwrote; beam search allows one between any two sentences.
    """
    size = -(-len(moved) // parts)
    if len(moved) <= size:
        return [slice(0, len(moved))]
    later_min = np.minimum.accumulate(sources[::-1])[::-1]
    runs, start = [], 0
    for cut in (np.flatnonzero(later_min[1:] > moved[:-1]) + 1).tolist():
        if cut - start >= size:
            runs.append(slice(start, cut))
            start = cut
    runs.append(slice(start, len(moved)))
    return runs


class InPlaceDecoderState:
    """One batch's encoder output and cache buffers; implements ``search.StepModel``."""

    def __init__(self, sessions: Any, encoded: list[np.ndarray], heads: int, head_dim: int) -> None:
        """``sessions``: anything with the in-place ``decoder`` session and its ``cache_dtype``."""
        self.session: ort.InferenceSession = sessions.decoder
        padding, *cross = encoded
        self.layers = len(cross) // 2
        self.heads, self.head_dim = heads, head_dim
        self.dtype = np.dtype(sessions.cache_dtype)
        self.cache_names, self.written_names = cache_names(self.layers), written_names(self.layers)
        self.cross_names = cross_names(self.layers)
        self.rows = 0  # rows of the buffers in use
        self.slots = np.zeros(0, dtype=np.int64)  # the buffer row of each search row
        self.block_of = np.arange(len(padding))  # the block of buffer rows (and encoder row) of each sentence
        self.length = 0  # positions written
        self.buffers: list[CacheBuffer] = []
        weakref.finalize(self, _give_back, self.buffers)  # the maps go back to the pool with the batch
        self._set_encoder(padding, cross)

    def _set_encoder(self, padding: np.ndarray, cross: list[np.ndarray]) -> None:
        self.src_padding, self.cross = padding, cross  # kept referenced: the values below use their memory
        self._encoder_values = {name: ort.OrtValue.ortvalue_from_numpy(array)
                                for name, array in zip(["src_padding", *self.cross_names], [padding, *cross])}

    def keep_sentences(self, keep: np.ndarray) -> None:
        """Drop finished sentences; the sentences in the blocks past the survivors move into the
        freed ones (encoder output here, cache rows at the next step), the others stay put."""
        kept = len(keep)
        blocks = self.block_of[keep]
        moving = np.flatnonzero(blocks >= kept)
        arrays = [self.src_padding, *self.cross]  # in block order, like the cache
        if len(moving):
            free = np.setdiff1d(np.arange(kept), blocks)  # as many as move (ascending)
            for array in arrays:
                array[free] = array[blocks[moving]]
            blocks = blocks.copy()
            blocks[moving] = free
        self.block_of = blocks
        self._set_encoder(arrays[0][:kept], [c[:kept] for c in arrays[1:]])

    # -- the cache ------------------------------------------------------------------------------

    def _home(self, rows: int) -> np.ndarray:
        """The first buffer row of the block of each of ``rows`` search rows."""
        group = rows // len(self.block_of)  # rows per sentence (the search keeps it uniform)
        return self.block_of[np.arange(rows) // group] * group

    def _new_buffers(self, reorder: np.ndarray) -> None:
        """Buffers for ``len(reorder)`` rows: the first step's, or more rows when beams are added."""
        rows, t = len(reorder), self.length
        sources = self.slots[reorder] if t else reorder
        self.slots = self._home(rows) + np.arange(rows) % (rows // len(self.block_of))
        if not self.buffers:
            self.buffers.extend(CacheBuffer(rows, self.heads, max(GROWTH, t + 1), self.head_dim, self.dtype)
                                for _ in self.cache_names)
            return
        for buffer in self.buffers:
            buffer.spread(rows, self.slots, sources, t)

    def _reorder(self, reorder: np.ndarray) -> None:
        """Row ``i`` continues previous row ``reorder[i]``: copy only what must move.

        The graph needs each sentence's rows together in one block of buffer rows, the block of
        its encoder output (its encoder-decoder attention groups rows by sentence), but neither
        the blocks nor the rows within a block in the search's order: a row whose history lies in
        its block and is not taken by an earlier row keeps that buffer row; only the others (a
        second continuation of a beam, or a sentence moved into a finished one's block) are copied,
        into the rows left free in their block.
        """
        rows, t = len(reorder), self.length
        source = self.slots[reorder]
        home = self._home(rows)
        group = rows // len(self.block_of)
        first = np.zeros(rows, dtype=bool)
        first[np.unique(source, return_index=True)[1]] = True
        stays = first & (source >= home) & (source < home + group)
        taken = np.zeros(rows, dtype=bool)
        taken[source[stays]] = True
        moved = np.flatnonzero(~stays)
        moved = moved[np.argsort(home[moved], kind="stable")]
        to = np.flatnonzero(~taken)  # both ascend block by block, with as many rows per block
        target = source.copy()
        target[moved] = to
        if len(moved) and t:
            sources = source[moved]
            for run in independent_runs(to, sources, REORDER_PARTS):
                for buffer in self.buffers:
                    buffer.array[to[run], :, :t] = buffer.array[sources[run], :, :t]
        self.slots = target

    def _prepare(self, reorder: np.ndarray) -> None:
        """Reorder (and compact) the rows, then make room for one more position."""
        rows = len(reorder)
        if not self.buffers or rows > self.buffers[0].rows:
            self._new_buffers(reorder)
        elif self.rows != rows or not np.array_equal(reorder, np.arange(rows)):
            self._reorder(reorder)
        self.rows = rows
        capacity = self.buffers[0].capacity
        if self.length + 1 > capacity:
            for buffer in self.buffers:
                buffer.grow(capacity + max(GROWTH, capacity // 8), rows, self.length)

    # -- a step ---------------------------------------------------------------------------------

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        """Log-probs ``(N, V)`` of the next token; row ``i`` continues previous row ``reorder[i]``."""
        self._prepare(np.asarray(reorder, dtype=np.int64))
        binding = self.session.io_binding()
        in_order = bool((self.slots == np.arange(self.rows)).all())
        if not in_order:  # the graph's row j is buffer row j
            tokens = np.asarray(tokens)[np.argsort(self.slots)]
        binding.bind_cpu_input("tokens", np.ascontiguousarray(tokens, dtype=np.int64))
        binding.bind_cpu_input("step", np.array(self.length, dtype=np.int64))
        for name, value in self._encoder_values.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_output("lprobs", "cpu")  # first: get_outputs() follows the order of binding
        shape = (self.rows, self.heads, self.buffers[0].capacity, self.head_dim)
        for buffer, name, written in zip(self.buffers, self.cache_names, self.written_names):
            address = buffer.array.ctypes.data
            binding.bind_input(name, "cpu", 0, self.dtype.type, shape, address)
            binding.bind_output(written, "cpu", 0, self.dtype.type, shape, address)
        self.session.run_with_iobinding(binding)
        self.length += 1
        lprobs = binding.get_outputs()[0].numpy()
        return lprobs if in_order else lprobs[self.slots]
