"""One declaration of the search options: its derived forms (flags, HTTP schema, defaults) agree with it and fairseq."""
from __future__ import annotations

import argparse
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from export import search_options
from export.generate import build_parser as generate_parser
from export.search_options import SEARCH_KEYS, OptionError, SearchOptions, check_value, spec
from export.server import GenerateRequest
from export.server import build_parser as serve_parser


def fairseq_generation_defaults() -> dict[str, object]:
    """fairseq-generate's parsed defaults for the flags we share (its GenerationConfig)."""
    from fairseq import options

    parser = options.get_generation_parser()
    args = options.parse_args_and_arch(parser, ["data-bin"])
    return {name: getattr(args, spec(name).flag.lstrip("-").replace("-", "_")) for name in SEARCH_KEYS}


def test_defaults_and_flags_are_fairseq_generates():
    assert fairseq_generation_defaults() == SearchOptions().as_dict()
    assert spec("unk_penalty").flag == "--unkpen" and spec("unk_penalty").http == "unkpen"  # documented names


@pytest.mark.parametrize("build", [generate_parser, serve_parser])
def test_both_commands_offer_every_option_with_its_range(build):
    parser = build()
    flags = {action.dest: action for action in parser._actions}
    for name in SEARCH_KEYS:
        assert spec(name).flag in flags[name].option_strings
    low = spec("lenpen").low
    args = parser.parse_args(["--model-dir", "m", "--unkpen", "2.5", f"--lenpen={low}"])
    assert search_options.from_arguments(args) == {"unk_penalty": 2.5, "lenpen": low}


def test_request_schema_is_derived():
    schema = GenerateRequest.model_json_schema()["properties"]
    assert set(schema) == {"inputs", *(spec(name).http for name in SEARCH_KEYS)}
    for name in SEARCH_KEYS:
        bounds = next(b for b in schema[spec(name).http]["anyOf"] if b.get("type") != "null")
        assert (bounds["minimum"], bounds["maximum"]) == (spec(name).low, spec(name).high)
        assert bounds["type"] == ("integer" if search_options.TYPES[name] is int else "number")


def test_validation_names_the_option():
    assert SearchOptions().validate() == SearchOptions()
    for values, message in (({"lenpen": 1e4}, "lenpen: 10000.0 is outside"),
                            ({"max_len_a": -1e300}, "max_len_a: -1e+300 is outside [0, 100]"),
                            ({"beam": 2, "nbest": 3}, "nbest: 3 is larger than beam 2"),
                            ({"beam": True}, "beam: must be an integer"),
                            ({"unk_penalty": math.inf}, "unk_penalty: must be a finite number"),
                            ({"bogus": 1}, "bogus: unknown search option")):
        with pytest.raises(OptionError) as caught:
            SearchOptions.from_mapping(values)
        assert str(caught.value).startswith(message)


def accepted_by_declaration(name: str, value: object) -> bool:
    try:
        check_value(name, value)
        return True
    except OptionError:
        return False


def accepted_by_http(name: str, value: object) -> bool:
    try:
        GenerateRequest.model_validate({"inputs": ["x"], spec(name).http: value})
    except ValidationError:
        return False
    return accepted_by_declaration(name, value)  # what the server checks after the schema (excluded values)


def accepted_by_cli(name: str, value: object) -> bool:
    parser = argparse.ArgumentParser(exit_on_error=False)
    search_options.add_arguments(parser, defaults_from="test")
    try:
        parser.parse_args([f"{spec(name).flag}={value}"])
        return True
    except argparse.ArgumentError:
        return False


NUMBERS = st.one_of(
    st.integers(min_value=-(10**7), max_value=10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2, 10, 100, 128, 129, 100_000, 100_001, 0.5, -10.0, 10.0, 10.000001, 1e300, -1e300]),
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(SEARCH_KEYS), value=NUMBERS)
def test_flags_schema_and_declaration_accept_the_same_values(name, value):
    expected = accepted_by_declaration(name, value)
    assert accepted_by_http(name, value) == expected
    assert accepted_by_cli(name, value) == expected
