#!/usr/bin/env python
"""Measured side by side in one run: TLM mask building, and the cost of TLM in a training step.

1. Building the masks of a batch (B=32, T=128): our vectorized ``tlm_mask`` against a straightforward
   re-implementation of the per-row loop of the authors' release (one Python iteration per example
   and per position, one small tensor per row). Target: at least 30x faster.
2. One training step (forward + backward) of ``tlm_transformer`` (transformer-base sizes) on CPU with
   TLM on (rate 0.1, both) against TLM off, runs interleaved so machine noise hits both alike.
   Target: at most 10% overhead.

    python benchmarks/bench_tlm.py [--quick]
"""
import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, List

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tlm_fairseq.modules import tlm_mask  # noqa: E402


def loop_mask(key_padding_mask: torch.Tensor, rate: float) -> torch.Tensor:
    """The release's algorithm, one row at a time: keep each token with probability 1 - rate; for
    every position draw siblings or self ('both'); a dropped token's row becomes one-hot on itself
    (siblings) or all-but-itself (self, which the release lets see padding); any other row is the
    example's vector of kept tokens. Rows are small tensors concatenated per example."""
    keep = (~key_padding_mask).long() * torch.bernoulli(torch.full(key_padding_mask.shape, 1 - rate)).long()
    examples = []
    for kept in keep:
        rows = []
        for i in range(len(kept)):
            kind = random.choice(["siblings", "self"])
            if kept[i] != 1 and not key_padding_mask[len(examples), i]:
                if kind == "siblings":
                    row = torch.zeros(len(kept), dtype=torch.int64).to(kept.device)
                    row[i] = 1
                else:
                    row = torch.ones(len(kept), dtype=torch.int64).to(kept.device)
                    row[i] = 0
            else:
                row = kept
            rows.append(row.unsqueeze(0))
        examples.append(torch.cat(rows).unsqueeze(0))
    return torch.cat(examples).bool()


def timed(fn: Callable[[], object], repeats: int) -> List[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def bench_mask(repeats: int) -> float:
    batch, length = 32, 128
    lengths = torch.randint(length // 2, length + 1, (batch,))
    pad = torch.arange(length)[None, :] >= lengths[:, None]
    tlm_mask(pad, 0.1, "both")  # warm-up
    ours = statistics.median(timed(lambda: tlm_mask(pad, 0.1, "both"), repeats * 20))
    loop = statistics.median(timed(lambda: loop_mask(pad, 0.1), repeats))
    print(f"mask B={batch} T={length}: per-row loop {loop * 1e3:9.2f} ms | vectorized {ours * 1e3:7.3f} ms "
          f"| speed-up {loop / ours:7.1f}x (target >= 30x)")
    return loop / ours


def build_model(tlm_rate: float):
    from fairseq import options
    from fairseq.data import Dictionary
    from fairseq.tasks.translation import TranslationTask

    import tlm_fairseq

    tlm_fairseq.register()

    parser = options.get_training_parser()
    args = options.parse_args_and_arch(
        parser, input_args=["/unused", "--arch", "tlm_transformer", "--cpu", "--tlm-rate", str(tlm_rate),
                            "--dropout", "0.1"])
    d = Dictionary()
    for i in range(4000):
        d.add_symbol(f"w{i}")
    torch.manual_seed(0)
    return TranslationTask(args, d, d).build_model(args), d


def bench_step(repeats: int, batch: int, length: int) -> float:
    on, d = build_model(0.1)
    off, _ = build_model(0.0)
    off.load_state_dict(on.state_dict())
    g = torch.Generator().manual_seed(0)
    src = torch.randint(d.nspecial, len(d), (batch, length), generator=g)
    prev = torch.randint(d.nspecial, len(d), (batch, length), generator=g)
    lengths = torch.full((batch,), length)

    def step(model):
        model.train()
        model.zero_grad(set_to_none=True)
        logits, _ = model(src, lengths, prev)
        logits.float().log_softmax(-1).mean().backward()

    step(on), step(off)  # warm-up
    times_on, times_off = [], []
    for _ in range(repeats):  # interleaved
        times_off += timed(lambda: step(off), 1)
        times_on += timed(lambda: step(on), 1)
    t_on, t_off = statistics.median(times_on), statistics.median(times_off)
    overhead = t_on / t_off - 1
    print(f"train step tlm_transformer (base) B={batch} T={length}, {torch.get_num_threads()} threads: "
          f"TLM off {t_off * 1e3:8.1f} ms | TLM on {t_on * 1e3:8.1f} ms | overhead {overhead * 100:+5.1f}% (target <= 10%)")
    return overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier figures)")
    args = parser.parse_args()
    random.seed(0)
    torch.manual_seed(0)
    repeats = 3 if args.quick else 8
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_mask(repeats)
    bench_step(repeats, batch=8, length=48)


if __name__ == "__main__":
    main()
