"""``tlm-serve``: an HTTP JSON API over an exported model (FastAPI + uvicorn).

``POST /v1/generate`` ``{"inputs": [...], "beam": 5, ...}`` -> ``{"outputs": [...], "scores": [...]}``
(``"nbest"`` adds ``"hypotheses"``); ``GET /health`` names the model and the execution provider.
Every rejection is a JSON ``{"error": {"code", "message"}}`` with a 4xx status that says what was
wrong: 400 unreadable JSON, 413 body too large, 422 invalid fields or inputs, 503 too many pending
requests. The body is read in chunks and refused as soon as it passes the limit.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from .batcher import MicroBatcher, Overloaded
from .errors import ExportError, InputProblem
from .generate import Generator

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


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    inputs: list[Any]
    beam: int | None = None
    lenpen: float | None = None
    max_len_a: float | None = None
    max_len_b: int | None = None
    min_len: int | None = None
    no_repeat_ngram_size: int | None = None
    unkpen: float | None = None
    nbest: int | None = None


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


def parse_request(body: bytes, gen: Generator, limits: Limits) -> tuple[list[Any], dict[str, Any]]:
    """Validated inputs and search overrides, or a RequestError saying what is wrong."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RequestError(400, "invalid_json", f"body is not valid JSON: {err}") from None
    if not isinstance(payload, dict):
        raise RequestError(422, "invalid_request", f"body must be a JSON object, got {type(payload).__name__}")
    try:
        req = GenerateRequest.model_validate(payload)
    except ValidationError as err:
        raise RequestError(422, "invalid_request", describe_validation(err)) from None
    if not req.inputs:
        raise RequestError(422, "empty_inputs", "inputs must hold at least one input")
    if len(req.inputs) > limits.max_inputs:
        raise RequestError(422, "too_many_inputs", f"{len(req.inputs)} inputs; the limit is {limits.max_inputs} per request")
    if gen.model.task == "text":
        for i, item in enumerate(req.inputs):
            if isinstance(item, str) and len(item) > limits.max_input_chars:
                raise RequestError(422, "input_too_long",
                                   f"inputs.{i}: {len(item)} characters; the limit is {limits.max_input_chars}")
    if req.beam is not None and req.beam > limits.max_beam:
        raise RequestError(422, "invalid_request", f"beam: {req.beam} is above the server's limit of {limits.max_beam}")
    overrides = req.model_dump(exclude={"inputs"}, exclude_none=True)
    if "unkpen" in overrides:
        overrides["unk_penalty"] = overrides.pop("unkpen")
    return req.inputs, overrides


def create_app(gen: Generator, limits: Limits = Limits()) -> FastAPI:
    batcher = MicroBatcher(gen.generate_ids, limits.max_batch_inputs, limits.batch_wait_ms / 1000, limits.max_pending)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="tlm-serve", lifespan=lifespan)
    app.state.batcher = batcher

    @app.get("/health")
    async def health() -> dict[str, Any]:
        cfg = gen.model.config
        return {
            "status": "ok",
            "model": {"dir": str(gen.model.root), "arch": cfg["arch"], "task": cfg["task"],
                      "checkpoint": cfg.get("checkpoint"), "precision": gen.sessions.precision},
            "provider": gen.provider,
            "pending": batcher.pending, "batches": batcher.batches, "requests": batcher.requests,
        }

    @app.post("/v1/generate")
    async def generate(request: Request) -> JSONResponse:
        try:
            body = await read_body(request, limits.max_body_bytes)
            inputs, overrides = parse_request(body, gen, limits)
            sources, opts = gen.prepare(inputs, **overrides)
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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error(500, "internal_error", f"{type(exc).__name__}: {exc}")

    return app


def build_parser() -> argparse.ArgumentParser:
    d = Limits()
    parser = argparse.ArgumentParser(prog="tlm-serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="directory written by tlm-export")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: its default)")
    parser.add_argument("--fp16", action="store_true", help="run the float16 graphs (meant for CUDA)")
    parser.add_argument("--max-inputs", type=int, default=d.max_inputs, help="inputs per request")
    parser.add_argument("--max-input-chars", type=int, default=d.max_input_chars, help="characters per text input")
    parser.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes)
    parser.add_argument("--max-beam", type=int, default=d.max_beam)
    parser.add_argument("--max-pending", type=int, default=d.max_pending, help="requests waiting or running; more get 503")
    parser.add_argument("--max-batch-inputs", type=int, default=d.max_batch_inputs, help="inputs merged into one batch")
    parser.add_argument("--batch-wait-ms", type=float, default=d.batch_wait_ms, help="how long a batch waits for company")
    return parser


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    values = [args.max_inputs, args.max_input_chars, args.max_body_bytes, args.max_beam, args.max_pending,
              args.max_batch_inputs]
    if min(values) < 1 or args.batch_wait_ms < 0 or args.threads < 0:
        print("tlm-serve: error: limits must be positive (--batch-wait-ms and --threads >= 0)", file=sys.stderr)
        return 2
    limits = Limits(args.max_inputs, args.max_input_chars, args.max_body_bytes, args.max_beam, args.max_pending,
                    args.max_batch_inputs, args.batch_wait_ms)
    try:
        gen = Generator(args.model_dir, args.device, args.threads, args.fp16)
    except ExportError as err:
        print(f"tlm-serve: error: {err}", file=sys.stderr)
        return 2
    log.info("serving %s on %s at http://%s:%d", gen.model.root, gen.provider, args.host, args.port)
    uvicorn.run(create_app(gen, limits), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
