"""tlm-serve over real HTTP on loopback: answers, bad requests, bounded concurrent load, overload."""
from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import httpx
import pytest

from export.generate import Generator
from helpers import PY, run

LIMITS = ["--max-inputs", "4", "--max-input-chars", "40", "--max-body-bytes", "2048", "--max-beam", "8",
          "--max-pending", "32", "--batch-wait-ms", "5"]


@pytest.fixture(scope="module")
def server(cgec, serving):
    with serving(cgec["model_dir"], *LIMITS) as url:
        yield url


@pytest.fixture(scope="module")
def reference(cgec):
    """Expected outputs for the load test, from the library in this process."""
    sentences = cgec["test_raw"].read_text().splitlines()[:30]
    gen = Generator(cgec["model_dir"], device="cpu", threads=1)
    return {s: r.output for s, r in zip(sentences, gen.generate(sentences, beam=3))}


def test_health_names_model_and_provider(server):
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "ok" and health["provider"] == "CPUExecutionProvider"
    assert health["model"]["arch"] == "tlm_transformer" and health["model"]["task"] == "text"
    assert health["model"]["precision"] == "float32"
    assert health["search_defaults"]["beam"] == 5 and health["search_defaults"]["unk_penalty"] == 0.0


def test_generate_answers_like_the_library(server, reference):
    sentences = list(reference)[:3]
    reply = httpx.post(f"{server}/v1/generate", json={"inputs": sentences, "beam": 3})
    assert reply.status_code == 200
    body = reply.json()
    assert body["outputs"] == [reference[s] for s in sentences] and len(body["scores"]) == 3
    nbest = httpx.post(f"{server}/v1/generate", json={"inputs": sentences[:1], "beam": 3, "nbest": 2}).json()
    assert nbest["outputs"][0] == reference[sentences[0]] and len(nbest["hypotheses"][0]) == 2
    # the documented name of the <unk> penalty is "unkpen" (fairseq's flag); in range it is accepted
    unk = httpx.post(f"{server}/v1/generate", json={"inputs": sentences[:1], "beam": 3, "unkpen": 1.5})
    assert unk.status_code == 200 and unk.json()["outputs"] == [reference[sentences[0]]]


BAD_REQUESTS = [
    (b'{"inputs": ["abc"', 400, "invalid_json"),
    (b"\xff\xfe", 400, "invalid_json"),
    (b'["abc"]', 422, "invalid_request"),
    (b'{"inputs": "abc"}', 422, "invalid_request"),
    (b'{"inputs": [1, 2]}', 422, "invalid_input"),
    (b'{"inputs": [null]}', 422, "invalid_input"),
    (b'{"inputs": []}', 422, "empty_inputs"),
    (b'{}', 422, "invalid_request"),
    (b'{"inputs": ["a", "b", "c", "d", "e"]}', 422, "too_many_inputs"),
    (json.dumps({"inputs": ["\u6211" * 41]}).encode(), 422, "input_too_long"),
    (json.dumps({"inputs": ["   "]}).encode(), 422, "invalid_input"),
    (b'{"inputs": ["abc"], "beam": "5"}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "beam": true}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "beam": 0}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "beam": 9}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "beam": 2, "nbest": 3}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "min_len": 300}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "temperature": 2}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "unk_penalty": 1}', 422, "invalid_request"),  # the field is "unkpen"
    (b'{"inputs": ["abc"], "lenpen": 1e4}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "lenpen": -1e4}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "lenpen": NaN}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "max_len_a": -1e300}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "max_len_a": 1e300}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "unkpen": Infinity}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "min_len": -1}', 422, "invalid_request"),
    (b'{"inputs": ["abc"], "no_repeat_ngram_size": 1}', 422, "invalid_request"),
    (json.dumps({"inputs": ["x" * 3000]}).encode(), 413, "body_too_large"),
]


@pytest.mark.parametrize("body,status,code", BAD_REQUESTS, ids=[str(i) for i in range(len(BAD_REQUESTS))])
def test_bad_requests_get_json_errors(server, body, status, code):
    reply = httpx.post(f"{server}/v1/generate", content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["message"]


def test_streamed_oversized_body_is_refused_and_server_keeps_answering(server, reference):
    def chunks():
        yield b'{"inputs": ["'
        for _ in range(100):
            yield b"x" * 100  # no Content-Length: the server must count while reading
        yield b'"]}'

    reply = httpx.post(f"{server}/v1/generate", content=chunks())
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "body_too_large"
    sentence = next(iter(reference))
    after = httpx.post(f"{server}/v1/generate", json={"inputs": [sentence], "beam": 3})
    assert after.status_code == 200 and after.json()["outputs"] == [reference[sentence]]


def test_concurrent_load_is_micro_batched_and_nothing_is_lost(server, reference):
    sentences = list(reference)
    clients, per_client = 8, 25
    answered: list[tuple[list[str], int, list[str]]] = []
    failures: list[str] = []
    lock = threading.Lock()
    before = httpx.get(f"{server}/health").json()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=server, timeout=60) as http:
            for _ in range(per_client):
                batch = rng.sample(sentences, rng.randint(1, 3))
                try:
                    reply = http.post("/v1/generate", json={"inputs": batch, "beam": 3})
                    outputs = reply.json().get("outputs", [])
                except httpx.HTTPError as err:  # a lost request fails the test below
                    with lock:
                        failures.append(repr(err))
                    continue
                with lock:
                    answered.append((batch, reply.status_code, outputs))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures and len(answered) == clients * per_client
    for batch, status, outputs in answered:
        assert status == 200 and outputs == [reference[s] for s in batch]
    after = httpx.get(f"{server}/health").json()
    served = after["requests"] - before["requests"]
    assert served == clients * per_client
    assert after["batches"] - before["batches"] < served  # concurrent requests shared batches
    assert after["pending"] == 0


def test_option_errors_name_the_option(server):
    for body, name in (({"lenpen": 1e4}, "lenpen"), ({"max_len_a": -1e300}, "max_len_a"), ({"unkpen": 1e9}, "unkpen"),
                       ({"no_repeat_ngram_size": 1}, "no_repeat_ngram_size"), ({"beam": 2, "nbest": 3}, "nbest")):
        reply = httpx.post(f"{server}/v1/generate", json={"inputs": ["abc"], **body})
        assert reply.status_code == 422 and reply.json()["error"]["message"].startswith(f"{name}: "), reply.text


def test_overload_is_refused_with_503_then_served(cgec, reference, serving):
    sentence = next(iter(reference))
    with serving(cgec["model_dir"], "--max-pending", "1", "--batch-wait-ms", "300") as url:
        statuses: list[int] = []
        codes: list[str] = []
        lock = threading.Lock()

        def one() -> None:
            reply = httpx.post(f"{url}/v1/generate", json={"inputs": [sentence], "beam": 3}, timeout=60)
            with lock:
                statuses.append(reply.status_code)
                if reply.status_code != 200:
                    codes.append(reply.json()["error"]["code"])

        threads = [threading.Thread(target=one) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(set(statuses)) == [200, 503] and set(codes) == {"overloaded"}
        again = httpx.post(f"{url}/v1/generate", json={"inputs": [sentence], "beam": 3}, timeout=60)
        assert again.status_code == 200 and again.json()["outputs"] == [reference[sentence]]


def test_record_model_serves_games(rotowire, serving):
    gen = Generator(rotowire["model_dir"], device="cpu", threads=1)
    games = json.loads(Path(rotowire["games"]).read_text())[:2]
    expected = [r.output for r in gen.generate(games, beam=2, max_len_b=20)]
    with serving(rotowire["model_dir"]) as url:
        reply = httpx.post(f"{url}/v1/generate", json={"inputs": games, "beam": 2, "max_len_b": 20}, timeout=60)
        assert reply.status_code == 200 and reply.json()["outputs"] == expected
        bad = httpx.post(f"{url}/v1/generate", json={"inputs": [{"box_score": {}}]}, timeout=60)
        assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("inputs.0: ")


def test_serve_refuses_a_bad_model_dir(tmp_path):
    proc = run([PY, "-m", "export.server", "--model-dir", tmp_path / "none", "--port", "1"], check=False, timeout=120)
    assert proc.returncode == 2 and f"{tmp_path / 'none'}: model directory not found" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["--lenpen=1e4"], "argument --lenpen: 10000.0 is outside [-10, 10]"),
    (["--max-beam", "500"], "argument --max-beam: must be in [1, 128], got 500"),
    (["--port", "70000"], "argument --port: must be in [0, 65535], got 70000"),
    (["--max-pending", "0"], "argument --max-pending: must be >= 1, got 0"),
])
def test_serve_option_errors_are_one_line(tmp_path, args, message):
    proc = run([PY, "-m", "export.server", "--model-dir", tmp_path, *args], check=False, timeout=120)
    assert proc.returncode == 2 and proc.stderr == f"tlm-serve: error: {message}\n"


def test_serve_search_defaults_come_from_the_command_line(cgec, serving, reference, tmp_path):
    sentence = next(iter(reference))
    with serving(cgec["model_dir"], "--beam", "3", "--nbest", "2") as url:
        assert httpx.get(f"{url}/health").json()["search_defaults"]["beam"] == 3
        reply = httpx.post(f"{url}/v1/generate", json={"inputs": [sentence]}, timeout=60).json()
        assert reply["outputs"] == [reference[sentence]] and len(reply["hypotheses"][0]) == 2
    proc = run([PY, "-m", "export.server", "--model-dir", cgec["model_dir"], "--beam", "9", "--max-beam", "8"],
               check=False, timeout=120)
    assert proc.returncode == 2 and "tlm-serve: error: the default beam 9 is above --max-beam 8" in proc.stderr
