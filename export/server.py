"""``tlm-serve``: an HTTP JSON API over an exported model (FastAPI + uvicorn).

``POST /v1/generate`` ``{"inputs": [...], "beam": 5, ...}`` -> ``{"outputs": [...], "scores": [...]}``
(``"nbest"`` adds ``"hypotheses"``); ``POST /v1/correct`` ``{"text": "...", "beam": 5, ...}`` (text
models) splits the text into sentences, corrects them in one batch and answers the corrected text
with every edit located in the text as sent (see ``export.correct``); ``GET /`` is a page for
people to do the same; ``GET /health`` names the model, the execution provider and the search
defaults. The request's search options, their names and ranges come from
``export.search_options``, like tlm-generate's and tlm-serve's own flags.
Every rejection is a JSON ``{"error": {"code", "message"}}`` with a 4xx status that says what was
wrong: 400 unreadable or too deeply nested JSON, 408 body too slow, 413 body too large, 431 headers
too large, 422 invalid fields or inputs or more work than ``--max-work``, 503 too many pending
requests (or shutting down).

Under abuse: the body is read in chunks and refused as soon as it passes the limit or the read
timeout; a connection that sends no complete request head in time is closed
(``export.connections``); a client that disconnects is logged in one line and its search stops
(``export.http_io``); concurrent searches share the model one step at a time, smallest consumer
first, so one large request does not stall small ones (``export.batcher``). SIGTERM stops
accepting connections, lets in-flight requests finish (at most ``--shutdown-timeout`` seconds) and
exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tlm_fairseq.cli import CliParser, run_cli

from . import search_options
from preprocess.cgec.tokenize_zh import normalize_with_offsets

from .batcher import MicroBatcher, Overloaded
from .connections import protocol_with_head_timeout
from .correct import Sentence, TextModel, correction_reply, identity_normalizer, split_sentences
from .errors import ExportError, InputProblem
from .arguments import add_precision_arguments, float_range, int_range, non_negative_int, positive_int
from .generate import Generator
from .http_io import ClientGone, HeadLimit, RequestError, error, parse_json, read_body, unless_client_leaves
from .search import Hypothesis, SearchOptions
from .tokenizers import ZhCharCodec

log = logging.getLogger("tlm.serve")


@dataclass(frozen=True)
class Limits:
    max_inputs: int = 64  # inputs per request
    max_input_chars: int = 2000  # characters per text input (token limit: the model's positions)
    max_body_bytes: int = 4 << 20
    max_beam: int = 16
    max_pending: int = 64  # requests waiting or running
    max_batch_inputs: int = 64  # inputs merged into one search batch
    batch_wait_ms: float = 5.0
    max_work: int = 100_000  # beam x maximum output length, summed over a request's inputs
    max_running: int = 4  # batches searched concurrently (sharing the model step by step)
    read_timeout: float = 15.0  # seconds for a request head, and then for its body
    keep_alive_timeout: float = 5.0  # idle seconds before a kept-alive connection is closed
    shutdown_timeout: float = 30.0  # seconds in-flight requests get after SIGTERM
    max_connections: int = 1000  # open connections; uvicorn answers 503 beyond


def request_model(name: str = "GenerateRequest", **fields: Any) -> type[BaseModel]:
    """A request body: ``fields`` (``inputs`` by default) plus each search option under its HTTP
    name and range."""
    options: dict[str, Any] = fields or {"inputs": (list[Any], ...)}
    for name in search_options.SEARCH_KEYS:
        spec, kind = search_options.spec(name), search_options.TYPES[name]
        extra = {"allow_inf_nan": False} if kind is float else {}
        options[name] = (kind | None, Field(None, alias=spec.http, ge=spec.low, le=spec.high,
                                            description=spec.help, **extra))
    return create_model(name, __config__=ConfigDict(extra="forbid", strict=True), **options)


GenerateRequest = request_model()
CorrectRequest = request_model("CorrectRequest", text=(str, ...))
PAGE = resources.files("export").joinpath("static/index.html").read_bytes()


def describe_validation(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def validate(body: bytes, schema: type[BaseModel]) -> Any:
    """The body parsed as JSON and checked against ``schema``, or a RequestError saying what is wrong."""
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise RequestError(422, "invalid_request", f"body must be a JSON object, got {type(payload).__name__}")
    try:
        return schema.model_validate(payload)
    except ValidationError as err:
        raise RequestError(422, "invalid_request", describe_validation(err)) from None


def parse_request(body: bytes, gen: Generator, limits: Limits) -> tuple[list[Any], dict[str, Any]]:
    """Validated inputs and search overrides, or a RequestError saying what is wrong."""
    req = validate(body, GenerateRequest)
    if not req.inputs:
        raise RequestError(422, "empty_inputs", "inputs must hold at least one input")
    if len(req.inputs) > limits.max_inputs:
        raise RequestError(422, "too_many_inputs", f"{len(req.inputs)} inputs; the limit is {limits.max_inputs} per request")
    if gen.model.task == "text":
        for i, item in enumerate(req.inputs):
            if isinstance(item, str) and len(item) > limits.max_input_chars:
                raise RequestError(422, "input_too_long",
                                   f"inputs.{i}: {len(item)} characters; the limit is {limits.max_input_chars}")
    overrides = req.model_dump(exclude={"inputs"}, exclude_none=True)  # by field name: unkpen -> unk_penalty
    return req.inputs, overrides


def parse_correction(body: bytes, gen: Generator, limits: Limits) -> tuple[str, list[Sentence], dict[str, Any]]:
    """The text, its sentences (within the same limits as ``/v1/generate``'s inputs) and the overrides."""
    if gen.model.task != "text":
        raise RequestError(422, "wrong_task", "/v1/correct serves text models; this model reads records: "
                           "use /v1/generate with game objects")
    req = validate(body, CorrectRequest)
    sentences = [s for s in split_sentences(req.text) if gen.source.codec.encode(s.text)]
    if not sentences:
        raise RequestError(422, "empty_inputs", "text holds no sentence to correct")
    if len(sentences) > limits.max_inputs:
        raise RequestError(422, "too_many_inputs",
                           f"text has {len(sentences)} sentences; the limit is {limits.max_inputs} per request")
    for i, sentence in enumerate(sentences):
        if len(sentence.text) > limits.max_input_chars:
            raise RequestError(422, "input_too_long", f"sentence {i + 1} (characters {sentence.start}-{sentence.end}): "
                               f"{len(sentence.text)} characters; the limit is {limits.max_input_chars}")
    return req.text, sentences, req.model_dump(exclude={"text"}, exclude_none=True)


def text_model(gen: Generator) -> TextModel:
    """The tokenizer both ways for a text model, with the map back through its normalization."""
    codec = gen.source.codec
    assert codec is not None
    normalizer = normalize_with_offsets if isinstance(codec, ZhCharCodec) else identity_normalizer
    return TextModel(codec.encode, codec.decode, normalizer, frozenset(gen.target.dictionary.symbols))


def overloaded(err: Overloaded) -> RequestError:
    return RequestError(503, "overloaded", f"server busy: {err}; retry later", headers={"Retry-After": "1"})


def create_app(gen: Generator, limits: Limits = Limits()) -> FastAPI:
    batcher = MicroBatcher(gen.generate_ids, limits.max_batch_inputs, limits.batch_wait_ms / 1000, limits.max_pending,
                           limits.max_running)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="tlm-serve", lifespan=lifespan)
    app.add_middleware(HeadLimit)
    corrector = text_model(gen) if gen.model.task == "text" else None
    app.state.batcher = batcher

    def prepare(inputs: list[Any], overrides: dict[str, Any], item: Callable[[int], str]) -> tuple[list[Any], SearchOptions]:
        """Encoded inputs and options within the server's limits, or a RequestError (``item(i)``
        names input ``i`` in messages)."""
        try:
            sources, opts = gen.prepare(inputs, **overrides)
        except InputProblem as err:
            raise RequestError(422, "invalid_input", f"{item(err.index)}: {err.problem}") from None
        except ValueError as err:  # search_options.OptionError, min_len above max_len
            raise RequestError(422, "invalid_request", str(err)) from None
        if opts.beam > limits.max_beam:
            raise RequestError(422, "invalid_request", f"beam: {opts.beam} is above the server's limit of {limits.max_beam}")
        work = gen.search_work(sources, opts)
        if work > limits.max_work:
            raise RequestError(422, "too_much_work", f"this request may take up to {work} beam steps ({len(sources)} "
                               f"input(s) x beam {opts.beam} x their maximum output lengths); the server's budget is "
                               f"{limits.max_work} per request: send fewer inputs, a smaller beam or a lower "
                               "max_len_a/max_len_b")
        return sources, opts

    async def search(request: Request, sources: list[Any], opts: SearchOptions) -> list[list[Hypothesis]]:
        """The batcher's answer; stopped (ClientGone) if the client leaves first."""
        try:
            return await unless_client_leaves(request, batcher.submit(sources, opts))
        except Overloaded as err:
            raise overloaded(err) from None
        except asyncio.CancelledError:  # uvicorn's --shutdown-timeout ran out: answer instead of a bare 500
            raise RequestError(503, "shutting_down", "the server is shutting down and could not finish this request "
                               "in time; retry", headers={"Retry-After": "1", "Connection": "close"}) from None

    def client_left(request: Request, err: ClientGone) -> Response:
        client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
        log.info("%s left %s %s %s; nothing was sent", client, request.method, request.url.path, err)
        return Response(status_code=499)  # nginx's "client closed request": nobody reads it

    @app.get("/health")
    async def health() -> dict[str, Any]:
        cfg = gen.model.config
        return {
            "status": "ok",
            "model": {"dir": str(gen.model.root), "arch": cfg.arch, "task": cfg.task, "checkpoint": cfg.checkpoint,
                      "checkpoint_sha256": cfg.checkpoint_sha256, "precision": gen.sessions.precision},
            "provider": gen.provider,
            "search_defaults": gen.defaults.as_dict(),  # what a request gets for the options it leaves out
            "limits": {"max_inputs": limits.max_inputs, "max_input_chars": limits.max_input_chars,
                       "max_beam": limits.max_beam, "max_work": limits.max_work},
            "pending": batcher.pending, "batches": batcher.batches, "requests": batcher.requests,
            "stopped": batcher.stopped,  # searches stopped because their clients left
        }

    @app.post("/v1/generate")
    async def generate(request: Request) -> Response:
        try:
            body = await read_body(request, limits.max_body_bytes, limits.read_timeout)
            inputs, overrides = parse_request(body, gen, limits)
            sources, opts = prepare(inputs, overrides, lambda i: f"inputs.{i}")
            hyps = await search(request, sources, opts)
        except RequestError as err:
            return err.response
        except ClientGone as err:
            return client_left(request, err)
        results = [gen.to_result(h, opts.nbest, s) for h, s in zip(hyps, sources)]
        reply: dict[str, Any] = {"outputs": [r.output for r in results], "scores": [r.score for r in results]}
        if opts.nbest > 1:
            reply["hypotheses"] = [[{"output": h["output"], "score": h["score"]} for h in r.hypotheses] for r in results]
        return JSONResponse(reply)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        """The correction page (text models) or the summary page (record models): one file, no CDN."""
        return HTMLResponse(PAGE, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                                           "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                                           "style-src 'unsafe-inline'; img-src 'self' data:"})

    @app.post("/v1/correct")
    async def correct(request: Request) -> Response:
        started = time.perf_counter()
        try:
            body = await read_body(request, limits.max_body_bytes, limits.read_timeout)
            text, sentences, overrides = parse_correction(body, gen, limits)
            sources, opts = prepare([s.text for s in sentences], overrides, lambda i: f"sentence {i + 1}")
            hyps = await search(request, sources, opts)
        except RequestError as err:
            return err.response
        except ClientGone as err:
            return client_left(request, err)
        best = [gen.target.symbols(h[0].tokens) if h else [] for h in hyps]
        reply = correction_reply(corrector, text, sentences, best)
        reply.update(time_ms=(time.perf_counter() - started) * 1000, provider=gen.provider)
        return JSONResponse(reply)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error(500, "internal_error", f"{type(exc).__name__}: {exc}")

    return app


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    parser = CliParser(prog="tlm-serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="directory written by tlm-export")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int_range(0, 65535), default=8000)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--threads", type=non_negative_int, default=0, help="onnxruntime intra-op threads (0: its default)")
    add_precision_arguments(parser)
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-inputs", type=positive_int, default=d.max_inputs, help="inputs per request")
    limits.add_argument("--max-input-chars", type=positive_int, default=d.max_input_chars, help="characters per text input")
    limits.add_argument("--max-body-bytes", type=positive_int, default=d.max_body_bytes)
    limits.add_argument("--max-beam", type=int_range(1, search_options.BEAM_LIMIT), default=d.max_beam,
                        help=f"largest beam a request may ask for (at most {search_options.BEAM_LIMIT})")
    limits.add_argument("--max-pending", type=positive_int, default=d.max_pending,
                        help="requests waiting or running; more get 503")
    limits.add_argument("--max-batch-inputs", type=positive_int, default=d.max_batch_inputs,
                        help="inputs merged into one batch")
    limits.add_argument("--batch-wait-ms", type=float_range(0, 10_000), default=d.batch_wait_ms,
                        help="how long a batch waits for company")
    limits.add_argument("--max-work", type=positive_int, default=d.max_work,
                        help="beam x maximum output length, summed over a request's inputs; more gets 422")
    limits.add_argument("--max-running", type=positive_int, default=d.max_running,
                        help="batches searched at once, sharing the model step by step (small ones first)")
    limits.add_argument("--max-connections", type=positive_int, default=d.max_connections,
                        help="open connections; more get 503")
    timeouts = parser.add_argument_group("timeouts (seconds)")
    timeouts.add_argument("--read-timeout", type=float_range(0.1, 3600), default=d.read_timeout,
                          help="for a request's head (from connect or the previous answer), then for its body (408)")
    timeouts.add_argument("--keep-alive-timeout", type=float_range(0.1, 3600), default=d.keep_alive_timeout,
                          help="idle time before a kept-alive connection is closed")
    timeouts.add_argument("--shutdown-timeout", type=float_range(0, 3600), default=d.shutdown_timeout,
                          help="after SIGTERM, how long in-flight requests may take before they are cancelled")
    search = parser.add_argument_group("search defaults for requests that do not set them (fairseq's meaning)")
    search_options.add_arguments(search, defaults_from="the export's")
    return parser


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    limits = Limits(max_inputs=args.max_inputs, max_input_chars=args.max_input_chars,
                    max_body_bytes=args.max_body_bytes, max_beam=args.max_beam, max_pending=args.max_pending,
                    max_batch_inputs=args.max_batch_inputs, batch_wait_ms=args.batch_wait_ms, max_work=args.max_work,
                    max_running=args.max_running, read_timeout=args.read_timeout,
                    keep_alive_timeout=args.keep_alive_timeout, shutdown_timeout=args.shutdown_timeout,
                    max_connections=args.max_connections)
    gen = Generator(args.model_dir, args.device, args.threads, precision=args.precision)
    gen.defaults = gen.options(**search_options.from_arguments(args))
    if gen.defaults.beam > limits.max_beam:
        raise ExportError(f"the default beam {gen.defaults.beam} is above --max-beam {limits.max_beam}; "
                          "lower it with --beam")
    config = uvicorn.Config(create_app(gen, limits), host=args.host, port=args.port, log_level="warning",
                            http=protocol_with_head_timeout(limits.read_timeout),
                            timeout_keep_alive=limits.keep_alive_timeout,  # type: ignore[arg-type] - a float works
                            timeout_graceful_shutdown=limits.shutdown_timeout,  # type: ignore[arg-type]
                            limit_concurrency=limits.max_connections)
    server = uvicorn.Server(config)
    log.info("serving %s on %s at http://%s:%d", gen.model.root, gen.provider, args.host, args.port)
    with exit_quietly_after_signals():
        server.run()


@contextmanager
def exit_quietly_after_signals() -> Iterator[None]:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler that
    was installed before it: make that a clean exit (0 for SIGTERM, 130 for SIGINT), not a kill."""
    def terminated(signum: int, frame: object) -> None:
        log.info("stopped by SIGTERM (in-flight requests were answered or timed out)")

    def interrupted(signum: int, frame: object) -> None:
        raise SystemExit(130)

    previous = signal.signal(signal.SIGTERM, terminated), signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(build_parser(), serve, argv)


if __name__ == "__main__":
    sys.exit(main())
