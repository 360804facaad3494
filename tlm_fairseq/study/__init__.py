"""The regularizer study harness: a tuned, seeded, converged comparison with significance tests.

Torch-free: runs are fairseq subprocesses, so this package imports only numpy, scipy, sacrebleu,
matplotlib and the project's scorers.

* :mod:`.protocol`  methods, settings, seeds and the phases (tune on validation, test, ablation);
* :mod:`.runner`    one run: train with early stopping, generate, score, keep the small result;
* :mod:`.metrics`   per-sentence sufficient statistics (M2, exact match, BLEU) and corpus scores;
* :mod:`.stats`     mean/sd/CI, paired t-test, paired bootstrap over sentences, Holm correction;
* :mod:`.report`    runs.csv, tables.md and the plots, rewritten after every run;
* :mod:`.harness`   the resumable, parallel driver behind ``scripts/compare_regularizers.py``.
"""
