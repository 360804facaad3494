"""The house's promises: torch-free parts stay torch-free, and the user-dir still registers."""
import json

import pytest
from helpers import PY, run

TORCH_FREE = [
    "tlm_fairseq", "tlm_fairseq.errors", "tlm_fairseq.cli", "tlm_fairseq.files", "tlm_fairseq.generation_output",
    "tlm_fairseq.scoring", "tlm_fairseq.scoring.m2", "tlm_fairseq.scoring.bleu",
    "preprocess.cgec.readers", "preprocess.cgec.tokenize_zh", "preprocess.cgec.hyp", "preprocess.cgec.word_to_char",
    "preprocess.rotowire.records", "preprocess.rotowire.synth",
    "export.search", "export.model_dir", "export.tokenizers", "export.runtime", "export.generate", "export.server",
]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_module_imports_neither_torch_nor_fairseq(module):
    probe = f"import sys, json, {module}; print(json.dumps(sorted({{'torch', 'fairseq'}} & set(sys.modules))))"
    assert json.loads(run([PY, "-c", probe]).stdout) == []


def test_user_dir_import_after_fairseq_registers_models_and_allowlist():
    """fairseq imports a --user-dir after itself: that import alone must register everything."""
    probe = (
        "import json, argparse, fairseq, torch, tlm_fairseq\n"
        "from fairseq.models import ARCH_MODEL_REGISTRY\n"
        "from fairseq.tasks import TASK_REGISTRY\n"
        "print(json.dumps([a for a in ARCH_MODEL_REGISTRY if a.startswith('tlm_')] + "
        "[t for t in TASK_REGISTRY if t == 'data_to_text'] + "
        "[argparse.Namespace in torch.serialization.get_safe_globals()]))"
    )
    names = json.loads(run([PY, "-c", probe]).stdout)
    assert {"tlm_transformer", "tlm_transformer_big", "tlm_transformer_cgec", "tlm_transformer_rotowire",
            "data_to_text"} <= set(names)
    assert names[-1] is True


def test_import_before_fairseq_registers_nothing_until_asked():
    probe = (
        "import json, sys, tlm_fairseq\n"
        "before = 'fairseq' in sys.modules\n"
        "tlm_fairseq.register()\n"
        "from fairseq.models import ARCH_MODEL_REGISTRY\n"
        "print(json.dumps([before, 'tlm_transformer' in ARCH_MODEL_REGISTRY]))"
    )
    assert json.loads(run([PY, "-c", probe]).stdout) == [False, True]
