"""``tlm-generate``: batched beam / greedy search over an exported model, as a library and a CLI.

Library use::

    gen = Generator("model_dir")                 # picks CUDA when usable, else CPU
    results = gen.generate(["他们去学校了。"], beam=5)
    results[0].output, results[0].score

Inputs are sorted by length into batches (as fairseq-generate does) and results come back in
input order. Search semantics are fairseq's (see ``export.search``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import InputError
from tlm_fairseq.files import atomic_write, check_can_create, iter_lines, write_text_atomic

from . import search_options
from .arguments import add_precision_arguments, non_negative_int, positive_int
from .errors import FileProblem, InputProblem
from .config import CONFIG_NAME
from .graph_check import check_graphs
from .integrity import once
from .kv_cache import InPlaceDecoderState
from .memory import give_back_freed_memory
from .model_dir import ModelDir
from .runtime import CUDA, BoundDecoderState, DecoderState, Sessions, encode, pad_sources
from .search import Hypothesis, SearchOptions, Symbols, beam_search, checked_max_lengths, greedy_search, max_lengths
from .tokenizers import SourceEncoder, TargetDecoder, copied_values

log = logging.getLogger("tlm.generate")

Gate = Callable[[], contextlib.AbstractContextManager[None]]  # wraps one model call


@dataclass
class Result:
    """The ``nbest`` hypotheses of one input, best first; ``output``/``score`` are the best one's."""

    output: str
    score: float
    hypotheses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stats:
    sentences: int = 0
    tokens: int = 0  # generated tokens of the best hypotheses, </s> included (fairseq's count)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # process CPU time over the same span: comparable on a busy machine

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


class Generator:
    """Sessions, tokenization and search for one exported model directory."""

    def __init__(self, model_dir: str | os.PathLike[str], device: str = "auto", threads: int = 0,
                 fp16: bool = False, io_binding: bool | None = None, precision: str | None = None,
                 inplace: bool | None = None) -> None:
        self.model = ModelDir.load(model_dir)
        self.sessions = Sessions.open(self.model, device, threads, fp16, precision, inplace)
        check = f"graph-check:{self.sessions.precision}{':inplace' if self.sessions.inplace else ''}"
        if once(self.model.root, check, [CONFIG_NAME, *self.model.config.files],
                lambda: check_graphs(self.model, self.sessions)):  # a contradicting config fails here; a pass is remembered
            give_back_freed_memory()  # the full-length probes' buffers
        self.io_binding = self.sessions.provider == CUDA if io_binding is None else io_binding
        self.source = SourceEncoder(self.model)
        self.target = TargetDecoder(self.model)
        cfg = self.model.config
        self.symbols = Symbols(pad=cfg.symbols.pad, eos=cfg.symbols.eos, unk=cfg.symbols.unk,
                               vocab=cfg.dims.target_vocab)
        self.defaults: SearchOptions = self.model.generation  # what options() starts from
        self.stats = Stats()
        log.info("model %s (%s, %s) on %s, %s%s", self.model.root, cfg.arch, cfg.task, self.provider,
                 self.sessions.precision, ", in-place cache" if self.sessions.inplace else
                 ", I/O binding" if self.io_binding else "")

    @property
    def provider(self) -> str:
        """The execution provider that actually runs the sessions."""
        return self.sessions.provider

    def options(self, **overrides: Any) -> SearchOptions:
        """:attr:`defaults` (the export's) with ``overrides`` (None values ignored), validated.

        Raises ``search_options.OptionError`` (a ValueError) naming the first bad option.
        """
        values = self.defaults.as_dict()
        values.update({k: v for k, v in overrides.items() if v is not None})
        if overrides.get("nbest") is None:  # the default nbest never exceeds a smaller requested beam
            values["nbest"] = min(values["nbest"], values["beam"])
        return SearchOptions.from_mapping(values)

    def encode_inputs(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        """Source ids per input; :class:`InputProblem` names the first bad one."""
        return [self.source(item, i) for i, item in enumerate(inputs)]

    def check_lengths(self, sources: Sequence[np.ndarray], opts: SearchOptions) -> None:
        """fairseq refuses ``min_len > max_len``; say so before searching, naming the input."""
        checked_max_lengths(np.asarray([len(s) for s in sources]), opts, self.model.config.max_target_positions)

    def prepare(self, inputs: Sequence[Any], **options: Any) -> tuple[list[np.ndarray], SearchOptions]:
        """Encoded inputs and validated options; raises InputProblem or ValueError saying what is wrong."""
        opts = self.options(**options)
        sources = self.encode_inputs(inputs)
        self.check_lengths(sources, opts)
        return sources, opts

    def batches(self, sources: Sequence[np.ndarray], batch_size: int, max_tokens: int | None) -> Iterable[list[int]]:
        """Indices grouped by source length (shortest first), capped in sentences and padded tokens."""
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        batch: list[int] = []
        for i in order:  # ascending lengths: the newest input is the widest
            width = len(sources[i])
            if batch and (len(batch) >= batch_size or (max_tokens and width * (len(batch) + 1) > max_tokens)):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def search_work(self, sources: Sequence[np.ndarray], opts: SearchOptions) -> int:
        """The most decoder work the search may do: beam x maximum output length, summed over inputs.

        An upper bound (a hypothesis may finish early), known before searching, so a server can
        refuse a request that asks for too much before it costs anything.
        """
        lengths = np.asarray([len(s) for s in sources])
        return int(opts.beam * max_lengths(lengths, opts, self.model.config.max_target_positions).sum())

    def search_batch(self, sources: Sequence[np.ndarray], opts: SearchOptions,
                     gate: Gate = contextlib.nullcontext) -> list[list[Hypothesis]]:
        """One padded batch through the encoder and the search; each model call runs inside ``gate()``."""
        src = pad_sources(list(sources), self.symbols.pad)
        dims = self.model.config.dims
        state_cls = InPlaceDecoderState if self.sessions.inplace else BoundDecoderState if self.io_binding else DecoderState
        with gate():
            encoded = encode(self.sessions, src)
        state = GatedState(state_cls(self.sessions, encoded, dims.heads, dims.head_dim), gate)
        lengths = np.asarray([len(s) for s in sources])
        search = greedy_search if opts.beam == 1 else beam_search
        return search(state, lengths, opts, self.symbols, self.model.config.max_target_positions)

    def generate_ids(self, sources: Sequence[np.ndarray], opts: SearchOptions, batch_size: int = 32,
                     max_tokens: int | None = None, gate: Gate = contextlib.nullcontext) -> list[list[Hypothesis]]:
        """Hypotheses per source, in order. ``gate`` wraps every model call: the server's scheduler
        shares the model between concurrent searches through it, and stops one by raising there."""
        results: list[list[Hypothesis]] = [[] for _ in sources]
        start, cpu = time.perf_counter(), time.process_time()
        for batch in self.batches(sources, batch_size, max_tokens):
            for i, hyps in zip(batch, self.search_batch([sources[i] for i in batch], opts, gate)):
                results[i] = hyps
        self.stats.seconds += time.perf_counter() - start
        self.stats.cpu_seconds += time.process_time() - cpu
        self.stats.sentences += len(sources)
        self.stats.tokens += sum(len(h[0].tokens) for h in results if h)
        return results

    def to_result(self, hyps: list[Hypothesis], nbest: int, source: np.ndarray) -> Result:
        """The strings of ``hyps`` of ``source`` (a copy model's copied values are the game's own)."""
        oov = copied_values(source)
        shown = [{"output": self.target(h.tokens, oov), "score": h.score,
                  "tokens": " ".join(self.target.symbols(h.tokens, oov))} for h in hyps[:nbest]]
        if not shown:  # every continuation scored -inf: nothing finished
            return Result("", float("-inf"), [])
        return Result(shown[0]["output"], shown[0]["score"], shown)

    def generate(self, inputs: Sequence[Any], batch_size: int = 32, max_tokens: int | None = None,
                 **options: Any) -> list[Result]:
        """Raw inputs (sentences, or game objects for record models) -> results in input order."""
        sources, opts = self.prepare(inputs, **options)
        hyps = self.generate_ids(sources, opts, batch_size, max_tokens)
        return [self.to_result(h, opts.nbest, s) for h, s in zip(hyps, sources)]


class GatedState:
    """A decoder state whose every step runs inside ``gate()`` (see ``Generator.generate_ids``)."""

    def __init__(self, state: DecoderState, gate: Gate) -> None:
        self.state, self.gate = state, gate

    def step(self, tokens: np.ndarray, reorder: np.ndarray) -> np.ndarray:
        with self.gate():
            return self.state.step(tokens, reorder)

    def keep_sentences(self, keep: np.ndarray) -> None:
        self.state.keep_sentences(keep)


STDIN = "/dev/stdin"


def read_inputs(path: Path | None, task: str) -> list[Any]:
    """Text models: one sentence per line. Record models: a JSON list of games, or JSON lines.

    Lines end at ``\\n`` only (``tlm_fairseq.files.iter_lines``), so a U+2028 or form feed inside a
    sentence never shifts the outputs against the inputs; bad UTF-8 is reported with its line.
    """
    source = Path(STDIN) if path is None else path
    lines = list(iter_lines(source))  # stdin can be read only once
    if task == "text":
        return [text for _, text in lines]
    if next((text for _, text in lines if text.strip()), "").lstrip().startswith("["):
        try:  # JSON strings hold no raw line breaks, so joining the lines gives back the document
            return json.loads("\n".join(text for _, text in lines))
        except json.JSONDecodeError as err:
            raise InputError(source, err.lineno, f"invalid JSON: {err.msg} (column {err.colno})") from None
    games = []
    for lineno, line in lines:
        if line.strip():
            try:
                games.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InputError(source, lineno, f"invalid JSON: {err}") from None
    return games


def write_outputs(results: Sequence[Result | None], out: Path | None, fmt: str) -> None:
    """Text: ``nbest`` lines per input (an empty line for a blank input); JSONL: one object per input.

    A file output appears complete or not at all, with a normal file's permissions.
    """
    def emit(handle: TextIO) -> None:
        for i, result in enumerate(results):
            if fmt == "jsonl":
                record = {"index": i, **(asdict(result) if result else {"output": "", "score": None, "hypotheses": []})}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            elif result is None or not result.hypotheses:
                handle.write("\n")
            else:
                for hyp in result.hypotheses:
                    handle.write(hyp["output"] + "\n")

    if out is None:
        emit(sys.stdout)
        sys.stdout.flush()
        return
    with atomic_write(out) as handle:
        emit(handle)


def check_output_path(path: Path, flag: str) -> None:
    """Refuse an output path that cannot be written, before any work: a folder, a path under a
    file, a folder we may not write in. Missing folders are fine (``atomic_write`` creates them)."""
    if path.is_dir():
        raise FileProblem(path, f"{flag} names a folder; give a file name")
    check_can_create(path, f"{path}: {flag}")


def check_outputs(args: argparse.Namespace) -> None:
    outputs = [(path, flag) for path, flag in ((args.output, "--output"), (args.stats_json, "--stats-json")) if path]
    for path, flag in outputs:
        check_output_path(path, flag)
    if len(outputs) == 2 and outputs[0][0].absolute() == outputs[1][0].absolute():
        raise FileProblem(args.output, "--output and --stats-json name the same file")


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="tlm-generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="directory written by tlm-export")
    parser.add_argument("--input", type=Path, help="sentences (one per line) or Rotowire games (JSON); default stdin")
    parser.add_argument("--output", type=Path, help="default stdout")
    parser.add_argument("--output-format", choices=("text", "jsonl"), default="text")
    search = parser.add_argument_group("search (fairseq's meaning)")
    search_options.add_arguments(search, defaults_from="the export's")
    run = parser.add_argument_group("execution")
    run.add_argument("--batch-size", type=positive_int, default=32, help="sentences per batch")
    run.add_argument("--max-tokens", type=positive_int, help="padded source tokens per batch")
    run.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    run.add_argument("--threads", type=non_negative_int, default=0, help="onnxruntime intra-op threads (0: its default)")
    add_precision_arguments(run)
    run.add_argument("--io-binding", choices=("auto", "on", "off"), default="auto",
                     help="keep the decoder cache on the device (auto: on for CUDA; on CPU an export's "
                          "in-place decoder, when it has one, binds its cache either way)")
    run.add_argument("--stats-json", type=Path, help="write sentences, tokens, seconds, tokens/s here")
    return parser


def run(args: argparse.Namespace) -> None:
    check_outputs(args)  # before the model loads and long before the work is done
    binding = {"auto": None, "on": True, "off": False}[args.io_binding]
    gen = Generator(args.model_dir, args.device, args.threads, io_binding=binding, precision=args.precision)
    opts = gen.options(**search_options.from_arguments(args))
    inputs = read_inputs(args.input, gen.model.task)
    name = STDIN if args.input is None else str(args.input)
    keep = [i for i, item in enumerate(inputs) if not (isinstance(item, str) and not item.strip())]
    if len(keep) < len(inputs):
        log.warning("%s: %d blank line(s) get blank outputs", name, len(inputs) - len(keep))
    try:
        sources = gen.encode_inputs([inputs[i] for i in keep])
    except InputProblem as err:
        if gen.model.task == "text":
            raise InputError(name, keep[err.index] + 1, err.problem) from None
        raise FileProblem(name, f"game {keep[err.index]}: {err.problem}") from None
    gen.check_lengths(sources, opts)
    hyps = gen.generate_ids(sources, opts, args.batch_size, args.max_tokens)
    results: list[Result | None] = [None] * len(inputs)
    for i, h, source in zip(keep, hyps, sources):
        results[i] = gen.to_result(h, opts.nbest, source)
    write_outputs(results, args.output, args.output_format)
    s = gen.stats
    log.info("generated %d inputs (%d tokens) in %.2fs: %.1f sentences/s, %.1f tokens/s, provider %s, %d thread(s)",
             s.sentences, s.tokens, s.seconds, s.sentences / max(s.seconds, 1e-9), s.tokens_per_second,
             gen.provider, args.threads)
    if args.stats_json:
        write_text_atomic(args.stats_json, json.dumps({
            "sentences": s.sentences, "tokens": s.tokens, "seconds": s.seconds, "cpu_seconds": s.cpu_seconds,
            "tokens_per_second": s.tokens_per_second, "provider": gen.provider}) + "\n")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(build_parser(), run, argv)


if __name__ == "__main__":
    sys.exit(main())
