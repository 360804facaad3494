"""Property: whatever body a client sends to /v1/generate or /v1/correct, the answer is a 200 with
one output per input, or a 4xx JSON error with a code and a message; never a 500."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from export import search_options
from export.generate import Generator
from export.server import Limits, create_app

WORDS = "我们你他她是的了在有不这个人来去学校老师朋友家天气很好。，！？ "
ODD = WORDS + "a\u3000\u2028\x0c\ud7ff\U0001f600\ud800\x00"  # odd spaces, an emoji, a lone surrogate, NUL

scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)
sentences = st.integers(0, 9).flatmap(lambda k: st.text(alphabet=WORDS if k else ODD, max_size=30))
anything = (st.integers() | st.floats() | st.booleans() | st.text(max_size=5) | st.none()
            | st.integers(min_value=-5, max_value=300) | st.floats(min_value=-20, max_value=300))


def in_range(name: str) -> st.SearchStrategy:
    spec = search_options.spec(name)
    if search_options.TYPES[name] is int:
        return st.integers(int(spec.low), int(min(spec.high, 80)))
    return st.floats(spec.low, spec.high)


# mostly options a careful client sends, so that requests get past the schema and run the search
sane_options = st.fixed_dictionaries({}, optional={
    "beam": st.integers(1, 4), "lenpen": st.floats(-10, 10), "max_len_a": st.floats(0, 2),
    "max_len_b": st.integers(0, 100), "min_len": st.integers(0, 5), "unkpen": st.floats(-100, 100),
    "no_repeat_ngram_size": st.sampled_from([0, 2, 3])})
wild_options = st.fixed_dictionaries({}, optional={search_options.spec(n).http: st.one_of(in_range(n), anything)
                                                   for n in search_options.SEARCH_KEYS})
option_values = st.integers(0, 3).flatmap(lambda k: sane_options if k else wild_options)
extra_keys = st.integers(0, 4).flatmap(lambda k: st.just({}) if k else st.dictionaries(st.text(max_size=6), json_values, max_size=2))
mostly_text = st.integers(0, 9).flatmap(lambda k: sentences if k else json_values)
inputs = st.integers(0, 9).flatmap(lambda k: st.lists(mostly_text, min_size=1, max_size=4) if k
                                   else st.lists(mostly_text, max_size=6))


def bodies(main_key: str, main_values: st.SearchStrategy) -> st.SearchStrategy:
    requests = st.builds(lambda main, options, extra: {**extra, **options, main_key: main},
                         main_values, option_values, extra_keys)
    encoded = requests.map(lambda body: json.dumps(body, allow_nan=True).encode())
    others = [json_values.map(lambda value: json.dumps(value, allow_nan=True).encode()), st.binary(max_size=200),
              encoded.map(lambda body: body[: len(body) // 2])]
    # 7 in 10 are requests of the right shape (hypothesis would otherwise favour the short broken ones)
    return st.integers(0, 9).flatmap(lambda k: encoded if k < 7 else others[k - 7])


@pytest.fixture(scope="module")
def client(cgec):
    from fastapi.testclient import TestClient

    gen = Generator(cgec["model_dir"], device="cpu", threads=1)
    limits = Limits(max_inputs=4, max_input_chars=60, max_body_bytes=4096, max_beam=4, batch_wait_ms=0)
    with TestClient(create_app(gen, limits), raise_server_exceptions=False) as test_client:
        yield test_client


def check(reply: Any, body: bytes, count: int | None) -> None:
    assert reply.status_code == 200 or 400 <= reply.status_code < 500, (body[:300], reply.status_code, reply.text[:300])
    answer = reply.json()
    event(f"HTTP {reply.status_code} {answer.get('error', {}).get('code', '')}")  # --hypothesis-show-statistics
    if reply.status_code == 200:
        if count is not None:
            assert len(answer["outputs"]) == count and all(isinstance(s, float) for s in answer["scores"])
    else:
        assert set(answer) == {"error"} and answer["error"]["code"] and answer["error"]["message"]


def inputs_count(body: bytes) -> int | None:
    try:
        return len(json.loads(body)["inputs"])
    except Exception:  # noqa: BLE001 - only a well-formed request has a count to check
        return None


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=bodies("inputs", inputs))
def test_generate_never_answers_500(client, body):
    check(client.post("/v1/generate", content=body, headers={"content-type": "application/json"}), body,
          inputs_count(body))


@FUZZ
@given(body=bodies("text", mostly_text))
def test_correct_never_answers_500(client, body):
    check(client.post("/v1/correct", content=body, headers={"content-type": "application/json"}), body, None)


@FUZZ
@given(beam=st.integers(1, 4), lenpen=st.floats(-10, 10), max_len_a=st.floats(0, 100),
       max_len_b=st.integers(0, 300), min_len=st.integers(0, 80), unkpen=st.floats(-100, 100))
def test_every_option_value_in_range_is_answered(client, beam, lenpen, max_len_a, max_len_b, min_len, unkpen):
    body = {"inputs": ["我们去学校了", "他很好"], "beam": beam, "lenpen": lenpen, "max_len_a": max_len_a,
            "max_len_b": max_len_b, "min_len": min_len, "unkpen": unkpen}
    reply = client.post("/v1/generate", json=body)
    check(reply, json.dumps(body).encode(), 2)
    if reply.status_code == 200:
        assert all(math.isfinite(s) or s == -math.inf for s in reply.json()["scores"])
    else:  # in range, the only refusal is fairseq's min_len > max_len
        assert "min_len" in reply.json()["error"]["message"], reply.text
