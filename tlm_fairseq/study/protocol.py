"""What the study runs: every method tuned the same way on validation, then tested over seeds.

1. tune: each regularizer at each of its rates, plus ``none``, with the tuning seed; the setting
   with the lowest best validation loss is chosen per method (the loss is measured in eval mode,
   without the regularizer, so it is comparable across methods, and it is the quantity early
   stopping uses);
2. test: each method's chosen setting with the test seeds (the same seeds for every method);
3. ablation: TLM's three modes at the chosen TLM rate, with the ablation seeds.

A run is one (setting, seed); the phases are views of the same runs, so the ``tlm-both`` test runs
are also the ``both`` row of the ablation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from tlm_fairseq.errors import UserError

REGULARIZED = ("tlm", "drophead", "attention-dropout")
METHODS = ("none", *REGULARIZED)
TLM_MODES = ("siblings", "self", "both")
DEFAULT_RATES = (0.05, 0.1, 0.2)


@dataclass(frozen=True, order=True)
class Setting:
    """One regularizer configuration: a method, its rate and (for TLM) its mode."""

    method: str
    rate: float = 0.0
    mode: str = "both"

    @property
    def name(self) -> str:
        if self.method == "none":
            return "none"
        if self.method == "tlm":
            return f"tlm-{self.mode}-{self.rate:g}"
        return f"{self.method}-{self.rate:g}"

    @property
    def label(self) -> str:
        """How tables name the method of this setting (TLM modes differ only in the ablation)."""
        return "none" if self.method == "none" else (f"tlm-{self.mode}" if self.method == "tlm" else self.method)

    def flags(self) -> list[str]:
        """fairseq-train flags; every other regularizer is switched off explicitly."""
        tlm = self.rate if self.method == "tlm" else 0.0
        return ["--tlm-rate", f"{tlm:g}", "--tlm-mode", self.mode,
                "--drophead-rate", f"{self.rate if self.method == 'drophead' else 0.0:g}",
                "--attention-dropout", f"{self.rate if self.method == 'attention-dropout' else 0.0:g}"]

    @classmethod
    def parse(cls, name: str) -> "Setting":
        """Inverse of :attr:`name`."""
        if name == "none":
            return cls("none")
        for method in ("attention-dropout", "drophead"):
            if name.startswith(method + "-"):
                return cls(method, _rate(name[len(method) + 1:], name))
        if name.startswith("tlm-"):
            mode, _, rate = name[4:].partition("-")
            if mode in TLM_MODES:
                return cls("tlm", _rate(rate, name), mode)
        raise UserError(f"unknown setting {name!r} (expected none, tlm-MODE-RATE, drophead-RATE or "
                        f"attention-dropout-RATE)")


def _rate(text: str, name: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise UserError(f"setting {name!r}: rate {text!r} is not a number") from None
    if not 0.0 < rate < 1.0:
        raise UserError(f"setting {name!r}: rate must be in (0, 1)")
    return rate


@dataclass(frozen=True, order=True)
class Run:
    setting: Setting
    seed: int

    @property
    def id(self) -> str:
        return f"{self.setting.name}-seed{self.seed}"


@dataclass(frozen=True)
class Protocol:
    methods: tuple[str, ...] = METHODS
    rates: tuple[float, ...] = DEFAULT_RATES
    tune_seed: int = 1
    test_seeds: tuple[int, ...] = (2, 3, 4, 5, 6)
    ablation_seeds: tuple[int, ...] = (2, 3, 4, 5, 6)
    #: chosen settings given up front (e.g. another study's choice): tuning is skipped for them
    fixed: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise UserError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
        for method, rate in self.fixed:
            if method not in REGULARIZED:
                raise UserError(f"--chosen: {method!r} is not one of {', '.join(REGULARIZED)}")
            _rate(f"{rate}", method)
        if self.needs_tuning and self.tune_seed in self.test_seeds:
            raise UserError(f"the tuning seed {self.tune_seed} must not be a test seed (selection would leak)")

    def tuning_settings(self) -> list[Setting]:
        fixed = dict(self.fixed)
        out = []
        for method in self.methods:
            if method == "none":
                out.append(Setting("none"))
            elif method not in fixed:
                out.extend(Setting(method, rate) for rate in self.rates)
        return out

    def tuning_runs(self) -> list[Run]:
        return [Run(s, self.tune_seed) for s in self.tuning_settings() if s.method != "none" or self.needs_tuning]

    @property
    def needs_tuning(self) -> bool:
        return any(m != "none" and m not in dict(self.fixed) for m in self.methods)

    def choose(self, valid_loss: Mapping[Run, float]) -> dict[str, Setting] | None:
        """Each method's chosen setting, or None while a tuning run is missing.

        Lowest best validation loss wins; a tie goes to the smaller rate.
        """
        chosen = {m: Setting(m, r) for m, r in self.fixed if m in self.methods}
        if "none" in self.methods:
            chosen["none"] = Setting("none")
        for method in self.methods:
            if method in chosen:
                continue
            candidates = []
            for rate in self.rates:
                run = Run(Setting(method, rate), self.tune_seed)
                if run not in valid_loss:
                    return None
                candidates.append((valid_loss[run], rate))
            chosen[method] = Setting(method, min(candidates)[1])
        return chosen

    def test_runs(self, chosen: Mapping[str, Setting]) -> list[Run]:
        """Seed by seed, every method within a seed: a study stopped part-way still has paired runs."""
        return [Run(chosen[m], seed) for seed in self.test_seeds for m in self.methods]

    def ablation_runs(self, chosen: Mapping[str, Setting]) -> list[Run]:
        if "tlm" not in chosen or not self.ablation_seeds:
            return []
        rate = chosen["tlm"].rate
        return [Run(Setting("tlm", rate, mode), seed) for seed in self.ablation_seeds for mode in TLM_MODES]

    def planned(self, valid_loss: Mapping[Run, float]) -> tuple[list[Run], bool]:
        """Every run known so far (deduplicated, in phase order), and whether the plan is final
        (it is not while tuning is unfinished: the test runs depend on the choice)."""
        runs = self.tuning_runs()
        chosen = self.choose(valid_loss)
        if chosen is not None:
            # seed by seed, the test runs of a seed then its ablation runs: a study stopped part-way
            # has every comparison on the same seeds
            test, ablation = self.test_runs(chosen), self.ablation_runs(chosen)
            for seed in dict.fromkeys((*self.test_seeds, *self.ablation_seeds)):
                runs += [r for r in test if r.seed == seed] + [r for r in ablation if r.seed == seed]
        return list(dict.fromkeys(runs)), chosen is not None

    def total_runs(self) -> int:
        """Number of distinct runs of the finished study (known before tuning ends)."""
        tlm = "tlm" in self.methods
        ablation = len(self.ablation_seeds) * (len(TLM_MODES) - 1) if tlm else 0
        both_extra = len(set(self.ablation_seeds) - set(self.test_seeds) - {self.tune_seed}) if tlm else 0
        return len(self.tuning_runs()) + len(self.methods) * len(self.test_seeds) + ablation + both_extra

    def describe(self) -> dict[str, object]:
        return {"methods": list(self.methods), "rates": list(self.rates), "tune_seed": self.tune_seed,
                "test_seeds": list(self.test_seeds), "ablation_seeds": list(self.ablation_seeds),
                "fixed": [list(f) for f in self.fixed]}


def parse_fixed(items: Iterable[str]) -> tuple[tuple[str, float], ...]:
    """``METHOD=RATE`` items of ``--chosen``."""
    out = []
    for item in items:
        method, sep, rate = item.partition("=")
        if not sep:
            raise UserError(f"--chosen {item!r}: expected METHOD=RATE, e.g. tlm=0.1")
        out.append((method, _rate(rate, item)))
    return tuple(out)


def seeds_text(seeds: Sequence[int]) -> str:
    return ",".join(map(str, seeds))
