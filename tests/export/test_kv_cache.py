"""The in-place decoder cache: one buffer per layer's keys and values that onnxruntime writes into
(never a second, grown copy of the cache per step), the beam bookkeeping around it, and the export
that writes the in-place graph beside the concat one."""
from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from export import kv_cache
from export.config import ExportConfig
from export.errors import ExportError
from export.generate import Generator
from export.graph_io import cache_names, written_names
from export.inplace_graph import supports
from export.kv_cache import InPlaceDecoderState, independent_runs
from export.model_dir import ModelDir


# -- the bookkeeping, on a stand-in for the graph -------------------------------------------------

class _NoSession:
    decoder = None
    cache_dtype = np.float32


def _state(sentences: int, layers: int = 2, heads: int = 2, head_dim: int = 8) -> InPlaceDecoderState:
    padding = np.zeros((sentences, 3), dtype=bool)
    cross = [np.full((sentences, heads, 3, head_dim), float(s), np.float32) for s in range(2 * layers)]
    for array in cross:
        array[:] += np.arange(sentences, dtype=np.float32)[:, None, None, None] * 100  # sentence b holds b*100 + s
    return InPlaceDecoderState(_NoSession, [padding, *cross], heads, head_dim)


def _write(state: InPlaceDecoderState, values: np.ndarray) -> None:
    """What the graph does at a step: buffer row ``slots[i]`` gets search row ``i``'s new position."""
    for k, buffer in enumerate(state.buffers):
        buffer.array[state.slots, :, state.length] = (values + 1000 * k)[:, None, None]
    state.length += 1


@pytest.mark.parametrize("seed", range(6))
def test_each_row_keeps_its_own_history_through_reorders_growth_and_dropped_sentences(seed):
    rng = np.random.default_rng(seed)
    sentences, beam = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    state = _state(sentences)
    histories: list[list[float]] = [[] for _ in range(sentences)]  # per search row
    alive = list(range(sentences))  # original sentence of each current one
    reorder = np.arange(sentences)
    next_value = 1.0
    for step in range(int(rng.integers(10, 30))):  # past at least one growth (GROWTH = 8)
        state._prepare(reorder)
        histories = [histories[r] for r in reorder]
        values = np.arange(next_value, next_value + len(reorder), dtype=np.float32)
        next_value += len(reorder)
        _write(state, values)
        histories = [h + [v] for h, v in zip(histories, values.tolist())]
        for k, buffer in enumerate(state.buffers):  # every row's cache is its own history, in its slot
            got = buffer.array[state.slots, 0, : state.length, 0]
            assert np.array_equal(got, np.asarray(histories, np.float32) + 1000 * k), (step, k)
        group = len(state.slots) // len(alive)  # rows per sentence
        for row, sentence in enumerate(np.repeat(alive, group)):  # rows sit with their encoder output
            assert state.cross[0][state.slots[row] // group, 0, 0, 0] == sentence * 100
        keep = np.arange(len(alive))
        if len(alive) > 1 and rng.random() < 0.2:  # a sentence finishes, as beam search drops it
            keep = np.sort(rng.choice(len(alive), size=len(alive) - 1, replace=False))
            state.keep_sentences(keep)
            alive = [alive[k] for k in keep]
        # each sentence's next rows continue its current rows, some twice, some not at all
        reorder = (keep[:, None] * group + rng.integers(0, group, size=(len(keep), beam))).reshape(-1)


def test_independent_runs_never_read_a_row_an_earlier_run_wrote():
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows = int(rng.integers(2, 40))
        moved = np.sort(rng.choice(rows, size=int(rng.integers(1, rows)), replace=False))
        sources = rng.integers(0, rows, size=len(moved))
        written: set[int] = set()
        runs = independent_runs(moved, sources, 4)
        assert sum(r.stop - r.start for r in runs) == len(moved) and runs[0].start == 0
        for run in runs:
            assert not written & set(sources[run].tolist())
            written |= set(moved[run].tolist())


def test_a_batch_leaves_its_maps_to_the_next_one():
    state = _state(3)
    state._prepare(np.arange(3))
    maps = [buffer._map for buffer in state.buffers]
    del state
    again = _state(3)
    again._prepare(np.arange(3))
    assert {id(buffer._map) for buffer in again.buffers} == {id(m) for m in maps}


def test_head_sizes_the_operator_refuses_keep_the_concat_decoder():
    assert supports(64) and supports(16) and not supports(12)


# -- the graph and the runtime ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def inplace(cgec) -> Generator:
    return Generator(cgec["model_dir"], device="cpu", threads=1)


def test_the_export_writes_the_in_place_decoder_over_the_concat_decoders_weights(cgec):
    config = ExportConfig.from_json(cgec["model_dir"] / "config.json")
    pair = config.graphs["float32"]
    assert pair.decoder_inplace == "decoder.inplace.onnx" and config.graphs["float16"].decoder_inplace is None
    assert "decoder.inplace.onnx" in config.files and "decoder.inplace.onnx.data" not in config.files
    graph = onnx.load(str(cgec["model_dir"] / pair.decoder_inplace), load_external_data=False)
    places = {e.value for t in graph.graph.initializer for e in t.external_data if e.key == "location"}
    assert places == {"decoder.onnx.data"}
    onnx.load(str(cgec["model_dir"] / pair.decoder_inplace))  # every reference resolves


def test_the_in_place_graph_returns_its_buffers_unchanged_in_shape(cgec):
    """No output may be a grown cache: the written buffers have the shape of the buffers fed in."""
    graph = onnx.load(str(cgec["model_dir"] / "decoder.inplace.onnx"), load_external_data=False).graph
    layers = ModelDir.load(cgec["model_dir"]).config.dims.decoder_layers
    inputs = {i.name: i.type.tensor_type.shape for i in graph.input}
    outputs = {o.name: o.type.tensor_type.shape for o in graph.output}
    assert list(outputs) == ["lprobs", *written_names(layers)]
    for fed, written in zip(cache_names(layers), written_names(layers)):
        assert [d.dim_param or d.dim_value for d in outputs[written].dim] == \
            [d.dim_param or d.dim_value for d in inputs[fed].dim] == ["rows", 4, "capacity", 16]
    assert "GroupQueryAttention" in {n.op_type for n in graph.node}


def test_onnxruntime_writes_into_the_runtimes_buffers_and_nothing_else_cache_sized(inplace, cgec, monkeypatch):
    """Between steps the runtime holds one buffer per layer's keys and values, and each step's
    written outputs are those very buffers: if a step returned new caches, this would fail."""
    assert inplace.sessions.inplace
    session = inplace.sessions.decoder
    seen: list[tuple[list[int], list[int]]] = []
    states: list[InPlaceDecoderState] = []
    real_init, real_run = InPlaceDecoderState.__init__, session.run_with_iobinding

    def init(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        real_init(self, *args, **kwargs)
        states.append(self)

    class Spy:
        def __getattr__(self, name):  # noqa: ANN001, ANN204
            return getattr(session, name)

        def run_with_iobinding(self, binding):  # noqa: ANN001, ANN202
            real_run(binding)
            written = [value.data_ptr() for value in binding.get_outputs()[1:]]
            seen.append((written, [b.array.ctypes.data for b in states[-1].buffers]))

    monkeypatch.setattr(InPlaceDecoderState, "__init__", init)
    monkeypatch.setattr(inplace.sessions, "decoder", Spy())
    sentences = cgec["test_raw"].read_text().splitlines()[:12]
    inplace.generate(sentences, beam=4, batch_size=6)
    assert len(states) == 2 and len(seen) > 10
    layers = inplace.model.config.dims.decoder_layers
    for written, buffers in seen:
        assert len(written) == len(buffers) == 2 * layers and written == buffers


def test_in_place_and_concat_decoders_generate_the_same(cgec, inplace):
    concat = Generator(cgec["model_dir"], device="cpu", threads=1, inplace=False)
    assert not concat.sessions.inplace
    sentences = cgec["test_raw"].read_text().splitlines()[:60]
    for beam, batch in ((1, 16), (4, 60), (5, 7)):
        ours = inplace.generate(sentences, beam=beam, nbest=beam, batch_size=batch)
        theirs = concat.generate(sentences, beam=beam, nbest=beam, batch_size=batch)
        assert [[h["tokens"] for h in r.hypotheses] for r in ours] == [[h["tokens"] for h in r.hypotheses] for r in theirs]
        assert np.allclose([h["score"] for r in ours for h in r.hypotheses],
                           [h["score"] for r in theirs for h in r.hypotheses], atol=1e-5)


def test_an_export_without_the_in_place_decoder_runs_on_the_concat_one(cgec, tmp_path):
    """Older exports (and head sizes the operator refuses) have no ``decoder_inplace``."""
    copy = tmp_path / "model"
    shutil.copytree(cgec["model_dir"], copy)
    config = json.loads((copy / "config.json").read_text())
    del config["graphs"]["float32"]["decoder_inplace"], config["files"]["decoder.inplace.onnx"]
    (copy / "config.json").write_text(json.dumps(config))
    (copy / "decoder.inplace.onnx").unlink()
    older = Generator(copy, device="cpu", threads=1)
    assert not older.sessions.inplace
    assert older.generate(["我们是学生"], beam=2)[0].output
    with pytest.raises(ExportError, match="no in-place decoder"):
        Generator(copy, device="cpu", threads=1, inplace=True)


def test_the_key_is_written_only_when_there_is_an_in_place_decoder(cgec, tmp_path):
    """A runtime that does not know the key refuses the directory by it (``unknown key``)."""
    data = json.loads((cgec["model_dir"] / "config.json").read_text())
    assert "decoder_inplace" in data["graphs"]["float32"] and "decoder_inplace" not in data["graphs"]["float16"]
    config = ExportConfig.from_json(cgec["model_dir"] / "config.json")
    config.to_json(tmp_path / "config.json")
    assert json.loads((tmp_path / "config.json").read_text()) == data


def test_pool_keeps_at_most_its_share(monkeypatch):
    pool = kv_cache.MapPool(keep=3)
    maps = [pool.take(4096) for _ in range(5)]
    pool.give(maps)
    assert len(pool._maps) == 3
    assert len(pool.take(3 * 4096)) >= 3 * 4096  # a kept map grows when a batch needs more
