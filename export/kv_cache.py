"""One batch's decoder state over the in-place decoder graph (``export.inplace_graph``), on CPU.

The self-attention cache is one buffer per layer for keys and one for values, ``(rows, H,
capacity, Dh)``, each bound through I/O binding as both the graph's input and its output, so
onnxruntime writes the new position into it and nothing cache-sized is allocated per step. Between
steps the beams are reordered here: only the rows that continue another row are copied, a few
sentences at a time, so the extra memory is a fraction of one buffer.

The buffers are private anonymous memory maps rather than numpy allocations, because memory is
what they are for: rows dropped with finished sentences are handed back to the system
(``MADV_DONTNEED``), the maps are unmapped as soon as the batch is done instead of staying in the
allocator's heap, and a buffer grows in place (``mremap``, then its blocks move up) by a few
positions at a time, so the resident cache stays within a few positions of what the search has
written. (A page-aligned block per row and head, the alternative that never moves, keeps up to a
page per block resident beyond the written part: 60 MB at beam 5, batch 32, base size.)
"""
from __future__ import annotations

import mmap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from .errors import ExportError
from .graph_io import cache_names, cross_names, written_names

if TYPE_CHECKING:
    from .model_dir import ModelDir

GROWTH = int(__import__("os").environ.get("KV_GROWTH", 8))  # positions a buffer starts with and grows by at least (an eighth of its capacity later)
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


class CacheBuffer:
    """``(rows, H, capacity, Dh)`` over a private anonymous map, unmapped when the buffer goes."""

    def __init__(self, rows: int, heads: int, capacity: int, head_dim: int, dtype: Any) -> None:
        self.rows, self.heads, self.capacity, self.head_dim = rows, heads, capacity, head_dim
        self.dtype = np.dtype(dtype)
        self._map = mmap.mmap(-1, self._bytes(capacity), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._view()

    def _bytes(self, capacity: int) -> int:
        return max(self.rows * self.heads * capacity * self.head_dim * self.dtype.itemsize, mmap.PAGESIZE)

    def _view(self) -> None:
        count = self.rows * self.heads * self.capacity * self.head_dim
        self.array = np.frombuffer(self._map, self.dtype, count).reshape(
            self.rows, self.heads, self.capacity, self.head_dim)

    def grow(self, capacity: int, rows: int, length: int) -> None:
        """Room for ``capacity`` positions, keeping the first ``length`` of the first ``rows`` rows.

        The map grows in place and the blocks move up, the last one first: a block's new place
        lies past every lower block's old one, so nothing is overwritten before it has moved.
        """
        old = self.capacity
        del self.array  # no view may live across the resize
        self._map.resize(self._bytes(capacity))
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

    def release_rows_from(self, row: int) -> None:
        """Hand the pages of rows ``row..`` back to the system (they read as zeros if used again)."""
        row_bytes = self.heads * self.capacity * self.head_dim * self.dtype.itemsize
        start = -(-row * row_bytes // mmap.PAGESIZE) * mmap.PAGESIZE
        if start < len(self._map):
            self._map.madvise(mmap.MADV_DONTNEED, start, len(self._map) - start)


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
        self.released_from = 0  # rows from here on have been handed back to the system
        self.slots = np.zeros(0, dtype=np.int64)  # the buffer row of each search row
        self.block_of = np.arange(len(padding))  # the block of buffer rows (and encoder row) of each sentence
        self.length = 0  # positions written
        self.buffers: list[CacheBuffer] = []
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
        """Buffers of ``len(reorder)`` rows (the first step, or beams added), filled one at a time."""
        rows, t = len(reorder), self.length
        capacity = max(GROWTH, self.buffers[0].capacity if self.buffers else 0, t + 1)
        sources = self.slots[reorder] if t else reorder
        self.slots = self._home(rows) + np.arange(rows) % (rows // len(self.block_of))
        self.released_from = rows
        if not self.buffers:
            self.buffers = [CacheBuffer(rows, self.heads, capacity, self.head_dim, self.dtype)
                            for _ in self.cache_names]
            return
        for i, old in enumerate(self.buffers):
            new = CacheBuffer(rows, self.heads, capacity, self.head_dim, self.dtype)
            if t:
                new.array[self.slots, :, :t] = old.array[sources, :, :t]
            self.buffers[i] = new  # the old map goes here, before the next one is made
            del old

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
        if rows < self.released_from - max(1, self.released_from // 8):  # a few sentences at a time
            for buffer in self.buffers:
                buffer.release_rows_from(rows)
            self.released_from = rows

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
