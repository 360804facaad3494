"""How an export stores a graph: its structure in ``NAME.onnx``, its weights in ``NAME.onnx.data``.

onnxruntime reads a separate weight file without parsing it as protobuf (a base-size graph loads in
milliseconds instead of a quarter second), maps it into memory instead of copying it, and the
2 GB protobuf limit no longer applies; both files are listed (with their SHA-256) in config.json.
"""
from __future__ import annotations

from pathlib import Path

import onnx


def data_name(graph: str) -> str:
    return graph + ".data"


def save_graph(model: onnx.ModelProto, path: Path) -> list[str]:
    """Write ``model`` as ``path`` + its weight file, with the lowest IR version onnxruntime needs.

    Returns the names of the files written. An existing weight file is replaced (onnx appends).
    """
    # onnx >= 1.23 stamps IR 14, newer than onnxruntime 1.31 reads: use the lowest IR for the opsets.
    model.ir_version = onnx.helper.find_min_ir_version_for(list(model.opset_import), ignore_unknown=True)
    data = path.parent / data_name(path.name)
    data.unlink(missing_ok=True)
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data.name, size_threshold=1024)
    return [path.name, data.name]
