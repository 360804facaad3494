"""``tlm-serve``: an HTTP JSON API over an exported model (FastAPI + uvicorn).

``POST /v1/generate`` ``{"inputs": [...], "beam": 5, ...}`` -> ``{"outputs": [...], "scores": [...]}``
(``"nbest"`` adds ``"hypotheses"``); ``POST /v1/correct`` ``{"text": "...", "beam": 5, ...}`` (text
models) splits the text into sentences, corrects them in one batch and answers the corrected text
with every edit located in the text as sent (see ``export.correct``); ``GET /`` is a page for
people to do the same; ``GET /health`` names the model, the execution provider and the search
defaults. The request's search options, their names and ranges come from
``export.search_options``, like tlm-generate's and tlm-serve's own flags.
Every rejection is a JSON ``{"error": {"code", "message"}}`` with a 4xx status that says what was
wrong: 400 unreadable JSON, 413 body too large, 422 invalid fields or inputs, 503 too many pending
requests. The body is read in chunks and refused as soon as it passes the limit.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from tlm_fairseq.cli import CliParser, run_cli

from . import search_options
from preprocess.cgec.tokenize_zh import normalize_with_offsets

from .batcher import MicroBatcher, Overloaded
from .correct import Sentence, TextModel, correction_reply, identity_normalizer, split_sentences
from .errors import ExportError, InputProblem
from .arguments import float_range, int_range, non_negative_int, positive_int
from .generate import Generator
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


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class RequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = error(status, code, message)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) once it passes ``limit`` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "bad_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise RequestError(413, "body_too_large", f"request body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, "body_too_large", f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def describe_validation(err: ValidationError) -> str:
    parts = []
    for item in err.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def validate(body: bytes, schema: type[BaseModel]) -> Any:
    """The body parsed as JSON and checked against ``schema``, or a RequestError saying what is wrong."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RequestError(400, "invalid_json", f"body is not valid JSON: {err}") from None
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


def create_app(gen: Generator, limits: Limits = Limits()) -> FastAPI:
    batcher = MicroBatcher(gen.generate_ids, limits.max_batch_inputs, limits.batch_wait_ms / 1000, limits.max_pending)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="tlm-serve", lifespan=lifespan)
    corrector = text_model(gen) if gen.model.task == "text" else None
    app.state.batcher = batcher

    @app.get("/health")
    async def health() -> dict[str, Any]:
        cfg = gen.model.config
        return {
            "status": "ok",
            "model": {"dir": str(gen.model.root), "arch": cfg.arch, "task": cfg.task,
                      "checkpoint": cfg.checkpoint, "precision": gen.sessions.precision},
            "provider": gen.provider,
            "search_defaults": gen.defaults.as_dict(),  # what a request gets for the options it leaves out
            "pending": batcher.pending, "batches": batcher.batches, "requests": batcher.requests,
        }

    @app.post("/v1/generate")
    async def generate(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, limits.max_body_bytes)
            inputs, overrides = parse_request(body, gen, limits)
            sources, opts = gen.prepare(inputs, **overrides)
            if opts.beam > limits.max_beam:
                raise RequestError(422, "invalid_request", f"beam: {opts.beam} is above the server's limit of {limits.max_beam}")
        except RequestError as err:
            return err.response
        except InputProblem as err:
            return error(422, "invalid_input", f"inputs.{err.index}: {err.problem}")
        except ValueError as err:
            return error(422, "invalid_request", str(err))
        try:
            hyps = await batcher.submit(sources, opts)
        except Overloaded as err:
            return JSONResponse({"error": {"code": "overloaded", "message": f"server busy: {err}; retry later"}},
                                status_code=503, headers={"Retry-After": "1"})
        results = [gen.to_result(h, opts.nbest) for h in hyps]
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
    async def correct(request: Request) -> JSONResponse:
        started = time.perf_counter()
        try:
            body = await read_body(request, limits.max_body_bytes)
            text, sentences, overrides = parse_correction(body, gen, limits)
            sources, opts = gen.prepare([s.text for s in sentences], **overrides)
            if opts.beam > limits.max_beam:
                raise RequestError(422, "invalid_request", f"beam: {opts.beam} is above the server's limit of {limits.max_beam}")
        except RequestError as err:
            return err.response
        except InputProblem as err:
            return error(422, "invalid_input", f"sentence {err.index + 1}: {err.problem}")
        except ValueError as err:
            return error(422, "invalid_request", str(err))
        try:
            hyps = await batcher.submit(sources, opts)
        except Overloaded as err:
            return JSONResponse({"error": {"code": "overloaded", "message": f"server busy: {err}; retry later"}},
                                status_code=503, headers={"Retry-After": "1"})
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
    parser.add_argument("--fp16", action="store_true", help="run the float16 graphs (meant for CUDA)")
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
    search = parser.add_argument_group("search defaults for requests that do not set them (fairseq's meaning)")
    search_options.add_arguments(search, defaults_from="the export's")
    return parser


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    limits = Limits(args.max_inputs, args.max_input_chars, args.max_body_bytes, args.max_beam, args.max_pending,
                    args.max_batch_inputs, args.batch_wait_ms)
    gen = Generator(args.model_dir, args.device, args.threads, args.fp16)
    gen.defaults = gen.options(**search_options.from_arguments(args))
    if gen.defaults.beam > limits.max_beam:
        raise ExportError(f"the default beam {gen.defaults.beam} is above --max-beam {limits.max_beam}; "
                          "lower it with --beam")
    log.info("serving %s on %s at http://%s:%d", gen.model.root, gen.provider, args.host, args.port)
    uvicorn.run(create_app(gen, limits), host=args.host, port=args.port, log_level="warning")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(build_parser(), serve, argv)


if __name__ == "__main__":
    sys.exit(main())
