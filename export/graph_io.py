"""Input and output names of the exported graphs, shared by the exporter and the runtime.

Keys and values travel as one tensor per layer: a stacked ``(L, 2, ...)`` cache would be split
and re-stacked (copied) by every decoder step, which profiling showed to cost about a third of the
step time on CPU.
"""
from __future__ import annotations


def cross_names(layers: int) -> list[str]:
    """Encoder-decoder keys and values per decoder layer: ``(B, H, S, Dh)``, one copy per input."""
    return [f"cross_{kv}_{i}" for i in range(layers) for kv in ("key", "value")]


def past_names(layers: int) -> list[str]:
    """Self-attention cache fed to a step: ``(N_prev, H, t, Dh)``."""
    return [f"past_{kv}_{i}" for i in range(layers) for kv in ("key", "value")]


def present_names(layers: int) -> list[str]:
    """Self-attention cache returned by a step: ``(N, H, t + 1, Dh)``."""
    return [f"present_{kv}_{i}" for i in range(layers) for kv in ("key", "value")]


#: Copy models (pointer-generator): the encoder also returns the records' encodings ``(B, S, C)``
#: that the copy attention reads; the decoder step also takes them, each record's extended id
#: ``(B, S)`` and ``oov_slots`` (zeros whose length is the batch's number of out-of-vocabulary
#: values, a shape so that the traced graph keeps it dynamic), and returns ``(N, V + slots)``.
COPY_SOURCE, SRC_EXT, OOV_SLOTS = "copy_source", "src_ext", "oov_slots"


def encoder_io(layers: int, copy: bool = False) -> dict:
    """``torch.onnx.export`` naming and dynamic axes of the encoder."""
    cross = cross_names(layers)
    axes = {"src": {0: "batch", 1: "src_len"}, "src_padding": {0: "batch", 1: "src_len"}}
    axes.update({name: {0: "batch", 2: "src_len"} for name in cross})
    outputs = ["src_padding", *cross]
    if copy:
        outputs.append(COPY_SOURCE)
        axes[COPY_SOURCE] = {0: "batch", 1: "src_len"}
    return {"input_names": ["src"], "output_names": outputs, "dynamic_axes": axes}


def decoder_io(layers: int, copy: bool = False) -> dict:
    """``torch.onnx.export`` naming and dynamic axes of one decoder step."""
    past, cross, present = past_names(layers), cross_names(layers), present_names(layers)
    axes = {"tokens": {0: "rows"}, "reorder": {0: "rows"}, "src_padding": {0: "batch", 1: "src_len"},
            "lprobs": {0: "rows"}}
    axes.update({name: {0: "prev_rows", 2: "past_len"} for name in past})
    axes.update({name: {0: "batch", 2: "src_len"} for name in cross})
    axes.update({name: {0: "rows", 2: "new_len"} for name in present})
    inputs = ["tokens", "reorder", "src_padding", *past, *cross]
    if copy:
        inputs += [COPY_SOURCE, SRC_EXT, OOV_SLOTS]
        axes.update({COPY_SOURCE: {0: "batch", 1: "src_len"}, SRC_EXT: {0: "batch", 1: "src_len"},
                     OOV_SLOTS: {0: "oov"}, "lprobs": {0: "rows", 1: "extended_vocab"}})
    return {"input_names": inputs, "output_names": ["lprobs", *present], "dynamic_axes": axes}


def cache_names(layers: int) -> list[str]:
    """In-place decoder (``export.inplace_graph``): cache buffers ``(N, H, capacity, Dh)`` fed to a step."""
    return [f"cache_{kv}_{i}" for i in range(layers) for kv in ("key", "value")]


def written_names(layers: int) -> list[str]:
    """The same buffers returned by the step, written at position ``step`` (bound to the inputs' memory)."""
    return [f"{name}_written" for name in cache_names(layers)]


def inplace_decoder_io(layers: int) -> dict:
    """``torch.onnx.export`` naming and dynamic axes of one in-place decoder step."""
    cross, cache, written = cross_names(layers), cache_names(layers), written_names(layers)
    axes = {"tokens": {0: "rows"}, "src_padding": {0: "batch", 1: "src_len"}, "lprobs": {0: "rows"}}
    axes.update({name: {0: "batch", 2: "src_len"} for name in cross})
    axes.update({name: {0: "rows", 2: "capacity"} for name in (*cache, *written)})
    return {"input_names": ["tokens", "step", "src_padding", *cross, *cache],
            "output_names": ["lprobs", *written], "dynamic_axes": axes}
