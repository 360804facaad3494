#!/usr/bin/env python
"""Run fairseq-train as N data-parallel CPU processes (gloo over loopback) on one machine.

fairseq infers distributed settings from CUDA devices (``--distributed-world-size 2 --cpu`` refuses
to start without GPUs, and a plain torchrun launch divides by the GPU count). Giving every process
an explicit TCP init method, its rank and ``--distributed-no-spawn`` skips that inference; the
``legacy_ddp`` backend all-reduces gradients with gloo on CPU tensors.

    python scripts/launch_cpu_distributed.py --nprocs 2 -- DATA_BIN --user-dir tlm_fairseq --arch ... --cpu
"""
import argparse
import socket
import subprocess
import sys
from typing import List


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def commands(nprocs: int, port: int, train_args: List[str]) -> List[List[str]]:
    common = [
        sys.executable, "-m", "fairseq_cli.train", *train_args, "--cpu",
        "--distributed-init-method", f"tcp://127.0.0.1:{port}",
        "--distributed-world-size", str(nprocs), "--distributed-no-spawn",
        "--distributed-backend", "gloo", "--ddp-backend", "legacy_ddp",
    ]
    return [common + ["--distributed-rank", str(rank)] for rank in range(nprocs)]


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nprocs", type=int, default=2, help="number of processes (world size)")
    parser.add_argument("--port", type=int, default=0, help="loopback port for the rendezvous (default: a free one)")
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="arguments for fairseq-train, after --")
    args = parser.parse_args(argv)
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    if args.nprocs < 1:
        parser.error("--nprocs must be at least 1")
    port = args.port or free_port()
    procs = [subprocess.Popen(cmd) for cmd in commands(args.nprocs, port, train_args)]
    codes = [p.wait() for p in procs]
    failed = [rank for rank, code in enumerate(codes) if code != 0]
    if failed:
        print(f"launch_cpu_distributed: rank(s) {failed} failed with exit codes {[codes[r] for r in failed]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
