"""Export a trained fairseq checkpoint to ONNX and generate or serve with onnxruntime alone.

``export.onnx_export`` (``tlm-export``) is the only module that needs torch and fairseq; the
generation (``tlm-generate``) and serving (``tlm-serve``) modules need numpy, onnx and onnxruntime
(plus fastapi/uvicorn to serve), so a text-model deployment does not install the training stack.
Record models read games with ``preprocess.rotowire.records``, which needs only the standard library.
"""
