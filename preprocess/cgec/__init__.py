"""Chinese grammatical error correction data: readers, tokenization, splits, binarization.

``python -m preprocess.cgec`` (= ``tlm-prep-cgec``) runs :func:`preprocess.cgec.prep.main`.
"""
