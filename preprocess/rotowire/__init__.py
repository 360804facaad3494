"""Rotowire data-to-text: torch-free record extraction (``records``), synthetic games (``synth``)
and binarization for fairseq (``prep``, which needs torch and fairseq).

``python -m preprocess.rotowire`` (= ``tlm-prep-rotowire``) runs :func:`preprocess.rotowire.prep.main`.
"""
