"""The search options, declared once: name, type, default, valid range and help of each.

``tlm-generate``'s and ``tlm-serve``'s command-line options, the defaults an export falls back to,
the ``generation`` block of ``config.json`` and the HTTP request schema are all derived from
:class:`SearchOptions`, so adding an option is one edit here (plus its use in ``export.search``).
Ranges keep every option where the search stays finite: ``lenpen`` 1e4 would overflow
``length ** lenpen``, and a huge or negative ``max_len_a`` has no meaning.
"""
from __future__ import annotations

import argparse
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tlm_fairseq.errors import UserError

BEAM_LIMIT = 128  # larger beams are refused everywhere (the server may set a lower limit)
LENGTH_LIMIT = 100_000  # tokens; the model's positions bound real lengths far below this


class OptionError(UserError, ValueError):
    """A search option has a bad value; ``name`` is the option's field name."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.problem = message


@dataclass(frozen=True)
class Spec:
    """How one option is offered: help text, inclusive range, fairseq's flag, HTTP field name."""

    help: str
    low: float
    high: float
    flag: str = ""  # fairseq-generate's flag, which tlm-generate and tlm-serve accept too
    http: str = ""  # name of the field in a /v1/generate request
    excluded: tuple[int, ...] = ()  # values inside the range that are still invalid, with why
    why_excluded: str = ""


def option(default: float, help: str, low: float, high: float, **names: Any) -> Any:
    """A dataclass field carrying its :class:`Spec`; ``flag`` and ``http`` default to the field's name."""
    return field(default=default, metadata={"spec": Spec(help, low, high, **names)})


@dataclass(frozen=True)
class SearchOptions:
    """Generation options with fairseq's names, meanings and defaults."""

    beam: int = option(5, "beam size; 1 = greedy", 1, BEAM_LIMIT)
    lenpen: float = option(1.0, "length penalty: a finished hypothesis scores sum / length ** lenpen", -10.0, 10.0)
    max_len_a: float = option(0.0, "maximum output length = a * source length + b", 0.0, 100.0)
    max_len_b: int = option(200, "see max_len_a", 0, LENGTH_LIMIT)
    min_len: int = option(1, "minimum output length (without </s>)", 0, LENGTH_LIMIT)
    no_repeat_ngram_size: int = option(0, "forbid repeating n-grams of this size (0: off)", 0, 100, excluded=(1,),
                                       why_excluded="1 would forbid every token, </s> included")
    unk_penalty: float = option(0.0, "subtracted from <unk>'s log-probability", -100.0, 100.0,
                                flag="--unkpen", http="unkpen")
    nbest: int = option(1, "hypotheses returned per input (at most beam)", 1, BEAM_LIMIT)

    def validate(self) -> "SearchOptions":
        """Self, or :class:`OptionError` naming the first bad option."""
        for f in fields(self):
            check_value(f.name, getattr(self, f.name))
        if self.nbest > self.beam:
            raise OptionError("nbest", f"{self.nbest} is larger than beam {self.beam}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "SearchOptions":
        """Options from ``{field name: value}``; unknown names and bad values are :class:`OptionError`."""
        unknown = sorted(set(values) - set(SEARCH_KEYS))
        if unknown:
            raise OptionError(unknown[0], "unknown search option")
        return cls(**values).validate()


def _types() -> dict[str, type]:
    hints = typing.get_type_hints(SearchOptions)
    return {f.name: hints[f.name] for f in fields(SearchOptions)}


TYPES: dict[str, type] = _types()
SEARCH_KEYS: tuple[str, ...] = tuple(TYPES)


def spec(name: str) -> Spec:
    """The declaration of option ``name`` (its flag and HTTP name filled in)."""
    declared: Spec = SearchOptions.__dataclass_fields__[name].metadata["spec"]
    return replace(declared, flag=declared.flag or "--" + name.replace("_", "-"), http=declared.http or name)


def default(name: str) -> Any:
    return SearchOptions.__dataclass_fields__[name].default


def _fmt(number: float) -> str:
    return f"{number:g}"


def check_value(name: str, value: Any) -> Any:
    """``value`` if it has option ``name``'s type and lies in its range, else :class:`OptionError`."""
    s, kind = spec(name), TYPES[name]
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise OptionError(name, f"must be an integer, got {value!r}")
    if kind is float and (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)):
        raise OptionError(name, f"must be a finite number, got {value!r}")
    if not s.low <= value <= s.high:
        raise OptionError(name, f"{value!r} is outside [{_fmt(s.low)}, {_fmt(s.high)}]")
    if value in s.excluded:
        raise OptionError(name, f"{value!r} is not allowed: {s.why_excluded}")
    return value


def _argument_type(name: str) -> typing.Callable[[str], Any]:
    kind = TYPES[name]

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, got {text!r}") from None
        try:
            return check_value(name, value)
        except OptionError as err:
            raise argparse.ArgumentTypeError(err.problem) from None

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, defaults_from: str) -> None:
    """One ``--flag`` per option (fairseq's flags), range-checked; unset options stay None."""
    for name in SEARCH_KEYS:
        s = spec(name)
        parser.add_argument(s.flag, dest=name, type=_argument_type(name), default=None,
                            metavar=TYPES[name].__name__.upper(),
                            help=f"{s.help}; {_fmt(s.low)}..{_fmt(s.high)} (default: {defaults_from}; "
                                 f"fairseq's is {default(name)})")


def from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line (``add_arguments``), by field name."""
    return {name: getattr(args, name) for name in SEARCH_KEYS if getattr(args, name) is not None}
