"""tlm-serve measured from outside, as clients see it, on one exported CGEC model.

(a) load: ``--clients`` concurrent clients send ``--requests`` requests each (1 to 3 sentences,
    the export's default search): requests/s over the whole run, latency p50/p95, lost requests;
(b) stall: one client sends the largest request the server allows (the longest sentences,
    ``--max-beam``, every hypothesis forced by ``min_len`` to ``--large-length`` output tokens, as
    many inputs as ``--max-work`` allows) back to back, while another client sends one-sentence
    requests one after the other: their latency p50/p95/max, next to the same requests on an
    idle server. The target is p95 < 1 s.

The server is a real ``tlm-serve`` process on a free loopback port (``--threads`` intra-op
threads), stopped with SIGTERM at the end (its exit status is reported).

    make demo && python benchmarks/bench_serve.py --model-dir work/demo/cgec-onnx
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tlm_fairseq.files import iter_lines, write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_M2 = ROOT / "tests" / "data" / "cgec" / "nlpcc18_test_sample.char.m2"


def sentences_from(path: Path) -> list[str]:
    """Source sentences: the ``S`` lines of an M2 file (spaces between characters removed), or plain lines."""
    lines = [text for _, text in iter_lines(path)]
    if any(line.startswith("S ") for line in lines):
        return [line[2:].replace(" ", "") for line in lines if line.startswith("S ")]
    return [line for line in lines if line.strip()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Latencies:
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        s = self.seconds
        return {"requests": len(s), "failed": len(self.failures), "p50_s": percentile(s, 50) if s else float("nan"),
                "p95_s": percentile(s, 95) if s else float("nan"), "max_s": max(s) if s else float("nan"),
                "mean_s": statistics.fmean(s) if s else float("nan")}


class Server:
    """A tlm-serve process on a free port, its log in a temporary file."""

    def __init__(self, model_dir: Path, threads: int, extra: list[str]) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log", delete=False)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "export.server", "--model-dir", str(model_dir), "--port",
                                      str(self.port), "--threads", str(threads), "--device", "cpu", *extra],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None:
                sys.exit(f"tlm-serve exited with {self.proc.returncode}:\n{Path(self.log.name).read_text()}")
            try:
                self.health = httpx.get(f"{self.url}/health", timeout=2).json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    sys.exit("tlm-serve did not come up within 300 s")
                time.sleep(0.2)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=120)
        os.unlink(self.log.name)
        return code


def post(http: httpx.Client, body: dict, expected: int, record: Latencies) -> float:
    started = time.perf_counter()
    try:
        reply = http.post("/v1/generate", json=body)
        elapsed = time.perf_counter() - started
        if reply.status_code != 200 or len(reply.json().get("outputs", [])) != expected:
            record.failures.append(f"HTTP {reply.status_code}: {reply.text[:200]}")
        else:
            record.seconds.append(elapsed)
        return elapsed
    except httpx.HTTPError as err:
        record.failures.append(repr(err))
        return time.perf_counter() - started


def load_test(url: str, sentences: list[str], clients: int, requests: int, seed: int) -> tuple[Latencies, float]:
    record, lock = Latencies(), threading.Lock()

    def client(index: int) -> None:
        rng = random.Random(seed + index)
        mine = Latencies()
        with httpx.Client(base_url=url, timeout=600) as http:
            for _ in range(requests):
                batch = rng.sample(sentences, rng.randint(1, 3))
                post(http, {"inputs": batch}, len(batch), mine)
        with lock:
            record.seconds += mine.seconds
            record.failures += mine.failures

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return record, time.perf_counter() - started


def one_sentence_requests(url: str, sentences: list[str], seed: int, keep_going: Callable[[int], bool],
                          intervals: list[tuple[float, float]] | None = None) -> Latencies:
    """One client, one sentence per request, back to back while ``keep_going(count)``."""
    rng, record = random.Random(seed), Latencies()
    with httpx.Client(base_url=url, timeout=600) as http:
        while keep_going(len(record.seconds) + len(record.failures)):
            start = time.monotonic()
            post(http, {"inputs": [rng.choice(sentences)]}, 1, record)
            if intervals is not None:
                intervals.append((start, time.monotonic()))
    return record


def largest_request(health: dict, sentences: list[str], length: int) -> dict:
    """The most work the server accepts in one request: its longest inputs and beam, every hypothesis
    forced to ``length`` output tokens, as many inputs as ``max_work`` allows."""
    limits = health["limits"]
    longest = sorted(sentences, key=len)[::-1]
    beam = limits["max_beam"]
    count = max(1, min(limits["max_inputs"], limits["max_work"] // (beam * length)))
    inputs = [longest[i % len(longest)][: limits["max_input_chars"]] for i in range(count)]
    return {"inputs": inputs, "beam": beam, "nbest": 1, "min_len": length, "max_len_b": length}


def stall_test(url: str, sentences: list[str], big: dict, seconds: float, seed: int) -> dict:
    stop = threading.Event()
    big_record, big_spans = Latencies(), []

    def big_client() -> None:
        with httpx.Client(base_url=url, timeout=3600) as http:
            while not stop.is_set():
                start = time.monotonic()
                post(http, big, len(big["inputs"]), big_record)
                big_spans.append((start, time.monotonic()))

    thread = threading.Thread(target=big_client)
    thread.start()
    time.sleep(1.0)  # the first large request is under way
    deadline = time.monotonic() + seconds
    small_spans: list[tuple[float, float]] = []
    small = one_sentence_requests(url, sentences, seed, lambda _: time.monotonic() < deadline, small_spans)
    stop.set()
    thread.join()
    overlapping = sum(any(a < e and s < b for a, b in big_spans) for s, e in small_spans)
    return {"small": small.summary(), "small_during_large": overlapping, "large": big_record.summary(),
            "small_failures": small.failures[:3], "large_failures": big_record.failures[:3]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=ROOT / "work" / "demo" / "cgec-onnx",
                        help="an exported CGEC model (default: make demo's)")
    parser.add_argument("--sentences", type=Path, default=SAMPLE_M2, help="M2 file (S lines) or one sentence per line")
    parser.add_argument("--threads", type=int, default=0, help="tlm-serve --threads (0: onnxruntime's default)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="per client in the load test")
    parser.add_argument("--stall-seconds", type=float, default=60.0, help="how long the stall test runs")
    parser.add_argument("--large-length", type=int, default=1000,
                        help="output tokens forced in the large requests (capped by the model's positions)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("serve_args", nargs="*", help="extra tlm-serve arguments (after --)")
    args = parser.parse_args(argv)
    if not (args.model_dir / "config.json").is_file():
        parser.error(f"{args.model_dir}: no exported model (run `make demo`, or pass --model-dir)")
    sentences = sentences_from(args.sentences)
    server = Server(args.model_dir, args.threads, args.serve_args)
    try:
        print(f"tlm-serve {args.model_dir} on {server.health['provider']}, --threads {args.threads}, "
              f"limits {server.health['limits']}", flush=True)
        one_sentence_requests(server.url, sentences, args.seed, lambda n: n < 5)  # warm-up
        idle = one_sentence_requests(server.url, sentences, args.seed, lambda n: n < 40)
        load, wall = load_test(server.url, sentences, args.clients, args.requests, args.seed)
        positions = json.loads((args.model_dir / "config.json").read_text())["max_target_positions"]
        big = largest_request(server.health, sentences, min(args.large_length, positions - 1))
        stall = stall_test(server.url, sentences, big, args.stall_seconds, args.seed)
    finally:
        exit_code = server.stop()
    load_figures = {**load.summary(), "requests_per_s": len(load.seconds) / wall, "wall_s": wall,
                    "lost": args.clients * args.requests - len(load.seconds)}
    results = {"idle_one_sentence": idle.summary(), "load": load_figures, "stall": stall,
               "largest_request": {"inputs": len(big["inputs"]), "chars": [len(s) for s in big["inputs"]],
                                   **{k: v for k, v in big.items() if k != "inputs"}},
               "sigterm_exit_code": exit_code}
    i, s = results["idle_one_sentence"], stall["small"]
    print(f"(a) {args.clients} clients x {args.requests} requests: {load_figures['requests_per_s']:.1f} requests/s, "
          f"p50 {load_figures['p50_s'] * 1000:.0f} ms, p95 {load_figures['p95_s'] * 1000:.0f} ms, "
          f"{load_figures['lost']} lost/failed")
    print(f"    one-sentence requests on an idle server: p50 {i['p50_s'] * 1000:.0f} ms, p95 {i['p95_s'] * 1000:.0f} ms")
    print(f"(b) stall: largest allowed request = {len(big['inputs'])} inputs x beam {big['beam']} x {big['min_len']} "
          f"forced output tokens, back to back; each took {stall['large']['p50_s']:.1f} s (p50, "
          f"{stall['large']['requests']} done)")
    print(f"    one-sentence requests meanwhile: {s['requests']} ({stall['small_during_large']} overlapping a large one), "
          f"p50 {s['p50_s'] * 1000:.0f} ms, p95 {s['p95_s'] * 1000:.0f} ms, max {s['max_s'] * 1000:.0f} ms, "
          f"{s['failed']} failed; target p95 < 1000 ms: {'met' if s['p95_s'] < 1.0 else 'NOT met'}")
    print(f"    SIGTERM: tlm-serve exited with {exit_code}")
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=2) + "\n")
    return 0 if load_figures["lost"] == 0 and s["failed"] == 0 and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
