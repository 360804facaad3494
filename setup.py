"""Install tlm_fairseq (the fairseq user-dir) together with its preprocessing and export stages.

Dependencies are pinned in requirements.txt and installed with ``--no-deps`` (see the Makefile);
fairseq's own metadata asks for torchaudio, which would replace the CPU torch with a CUDA build.
"""
from setuptools import find_packages, setup

setup(
    name="tlm_fairseq",
    version="0.1.0",
    description="Token-Level Masking (Wu et al., EMNLP 2023) for fairseq sequence-to-sequence models",
    python_requires=">=3.11",
    packages=find_packages(include=["tlm_fairseq", "tlm_fairseq.*", "preprocess", "preprocess.*", "export", "export.*"]),
    package_data={"tlm_fairseq": ["py.typed"]},
    # tlm-m2 is a launcher script so that scoring does not import torch and fairseq (see the script).
    scripts=["scripts/tlm-m2"],
    entry_points={
        "console_scripts": [
            "tlm-prep-cgec=preprocess.cgec.prep:main",
            "tlm-m2-word2char=preprocess.cgec.word_to_char:main",
            "tlm-prep-rotowire=preprocess.rotowire.prep:main",
            "tlm-export=export.onnx_export:main",
            "tlm-generate=export.generate:main",
            "tlm-serve=export.server:main",
        ]
    },
)
