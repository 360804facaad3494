"""The study's outputs, rewritten after every run: runs.csv, tables.md and the plots.

Every table flags settings with a run that hit the update cap without early stopping (``cap``),
because such a run may not have converged and its comparison may be unfair. Significance is
decided per metric on Holm-adjusted p-values (alpha 0.05), separately for the paired t-test
across seeds and the paired bootstrap over test sentences (see :mod:`.stats` for what each sees).
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from tlm_fairseq.files import atomic_write, write_text_atomic

from .metrics import LABELS, METRICS, SCORES, m2_precision_recall
from .protocol import TLM_MODES, Protocol, Run, Setting
from .stats import holm, paired_bootstrap, paired_t, summarize

ALPHA = 0.05
CAP = "cap"  # marker of a setting with at least one run that hit the update cap


@dataclass
class Study:
    """The finished runs of a study, viewed through its protocol."""

    protocol: Protocol
    results: dict[Run, dict]
    runs_dir: Path
    split: str = "test"
    resamples: int = 1000
    #: scores of copying the source unchanged (``baseline.json``), shown above the methods
    baseline: dict | None = None
    _stats: dict = field(default_factory=dict, repr=False)  # per-sentence statistics read so far

    @property
    def chosen(self) -> dict[str, Setting] | None:
        return self.protocol.choose({r: float(res["best_valid_loss"]) for r, res in self.results.items()})

    @property
    def metrics(self) -> list[str]:
        have = {m for res in self.results.values() for m in res.get("scores", {}).get(self.split, {})}
        return [m for m in METRICS if m in have]

    def runs_of(self, setting: Setting, seeds: Sequence[int]) -> list[Run]:
        return [Run(setting, s) for s in seeds if Run(setting, s) in self.results]

    def score(self, run: Run, metric: str) -> float:
        return float(self.results[run]["scores"][self.split][metric])

    def sentence_stats(self, run: Run, metric: str) -> np.ndarray:
        key = (run, self.split)
        if key not in self._stats:
            with open(self.runs_dir / run.id / f"{self.split}.stats.json", encoding="utf-8") as fh:
                self._stats[key] = json.load(fh)
        return np.asarray(self._stats[key][metric], dtype=float)

    def cap_hits(self, runs: Sequence[Run]) -> int:
        return sum(bool(self.results[r]["cap_hit"]) for r in runs)

    def phases(self, run: Run) -> list[str]:
        chosen = self.chosen
        out = ["tune"] if run in self.protocol.tuning_runs() else []
        if chosen is not None:
            if run in self.protocol.test_runs(chosen):
                out.append("test")
            if run in self.protocol.ablation_runs(chosen):
                out.append("ablation")
        return out


def fmt(x: float, digits: int = 4) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def fmt_p(p: float) -> str:
    return "-" if p is None or math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def write_csv(study: Study, path: Path) -> None:
    splits = sorted({s for res in study.results.values() for s in res.get("scores", {})})
    metric_cols = [(s, m) for s in splits for m in (*METRICS, "m2_unmerged")
                   if any(m in res.get("scores", {}).get(s, {}) for res in study.results.values())]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "setting", "method", "mode", "rate", "seed", "phases", "best_valid_loss", "best_update",
                     "last_update", "cap_hit", "train_seconds"]
                    + [f"{s}_{LABELS.get(m, m).replace(' ', '_')}" for s, m in metric_cols])
    for run in sorted(study.results, key=lambda r: (r.setting, r.seed)):
        res = study.results[run]
        writer.writerow([run.id, run.setting.name, run.setting.method, res.get("mode", ""), f"{run.setting.rate:g}",
                         run.seed, "+".join(study.phases(run)), f"{res['best_valid_loss']:.4f}", res["best_update"],
                         res["last_update"], "yes" if res["cap_hit"] else "no", res.get("train_seconds", "")]
                        + [_cell(res.get("scores", {}).get(s, {}).get(m)) for s, m in metric_cols])
    write_text_atomic(path, buf.getvalue())


def _cell(value: object) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{float(value):.4f}"


def _md(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def tuning_table(study: Study) -> list[str]:
    chosen = study.chosen or {}
    runs = [r for r in study.protocol.tuning_runs() if r in study.results]
    if not runs:
        return ["No tuning run has finished yet."]
    has_valid = any("valid" in study.results[r].get("scores", {}) for r in runs)
    valid_metrics = [m for m in METRICS
                     if has_valid and any(m in study.results[r]["scores"].get("valid", {}) for r in runs)]
    header = ["setting", "best valid loss", "best update", "stopped"] + \
        [f"valid {LABELS[m]}" for m in valid_metrics] + ["chosen"]
    rows = []
    for r in runs:
        res = study.results[r]
        stopped = f"{CAP} ({res['last_update']})" if res["cap_hit"] else f"early ({res['last_update']})"
        mark = "yes" if chosen.get(r.setting.method) == r.setting else ""
        rows.append([r.setting.name, fmt(res["best_valid_loss"]), str(res["best_update"]), stopped]
                    + [fmt(res["scores"].get("valid", {}).get(m, math.nan)) for m in valid_metrics] + [mark])
    pending = len(study.protocol.tuning_runs()) - len(runs)
    return _md(header, rows) + ([f"\n{pending} tuning run(s) still to come; nothing is chosen yet."] if pending else [])


def group_table(study: Study, groups: Sequence[tuple[str, Setting]], seeds: Sequence[int],
                with_baseline: bool = False) -> list[str]:
    metrics = study.metrics
    has_m2 = "m2" in metrics
    header = ["method", "setting", "seeds", "cap hits", "best update"] + (["P / R (mean)"] if has_m2 else []) + \
             [h for m in metrics for h in (f"{LABELS[m]} mean ± sd", f"{LABELS[m]} 95% CI")]
    rows = []
    if with_baseline and study.baseline:
        b = study.baseline
        rows.append(["source copy (no model)", "-", "-", "-", "-"]
                    + ([f"{b['m2_precision']:.3f} / {b['m2_recall']:.3f}"] if has_m2 and "m2_precision" in b else
                       ["-"] if has_m2 else [])
                    + [x for m in metrics for x in (fmt(b[m]) if m in b else "-", "-")])
    for label, setting in groups:
        runs = study.runs_of(setting, seeds)
        if not runs:
            continue
        caps = study.cap_hits(runs)
        row = [label + (f" ({CAP})" if caps else ""), setting.name, str(len(runs)), f"{caps}/{len(runs)}",
               summarize([study.results[r]["best_update"] for r in runs]).format(0)]
        if has_m2:
            pr = [m2_precision_recall(study.sentence_stats(r, "m2").sum(axis=0)) for r in runs]
            row.append(f"{np.mean([x[0] for x in pr]):.3f} / {np.mean([x[1] for x in pr]):.3f}")
        for m in metrics:
            s = summarize([study.score(r, m) for r in runs])
            row += [s.format(), s.format_ci()]
        rows.append(row)
    return _md(header, rows) if rows else ["No run of this phase has finished yet."]


@dataclass
class Comparison:
    a: str
    b: str
    metric: str
    n: int
    mean_diff: float
    t_p: float
    t_holm: float = math.nan
    boot_diff: float = math.nan
    boot_low: float = math.nan
    boot_high: float = math.nan
    boot_p: float = math.nan
    boot_holm: float = math.nan
    caps: int = 0


def compare(study: Study, pairs: Sequence[tuple[tuple[str, Setting], tuple[str, Setting]]],
            seeds: Sequence[int]) -> list[Comparison]:
    """Paired tests of every pair on every metric, Holm-adjusted within each (metric, test) family."""
    out: list[Comparison] = []
    for metric in study.metrics:
        family: list[Comparison] = []
        for (la, sa), (lb, sb) in pairs:
            common = [s for s in seeds if Run(sa, s) in study.results and Run(sb, s) in study.results]
            if len(common) < 2:
                continue
            ra, rb = [Run(sa, s) for s in common], [Run(sb, s) for s in common]
            t = paired_t([study.score(r, metric) for r in ra], [study.score(r, metric) for r in rb])
            boot = paired_bootstrap([study.sentence_stats(r, metric) for r in ra],
                                    [study.sentence_stats(r, metric) for r in rb], SCORES[metric], study.resamples)
            family.append(Comparison(la, lb, metric, len(common), t.mean_diff, t.p, boot_diff=boot.observed,
                                     boot_low=boot.ci_low, boot_high=boot.ci_high, boot_p=boot.p,
                                     caps=study.cap_hits(ra + rb)))
        for c, adj in zip(family, holm([c.t_p for c in family])):
            c.t_holm = adj
        for c, adj in zip(family, holm([c.boot_p for c in family])):
            c.boot_holm = adj
        out += family
    return out


def verdict(c: Comparison) -> str:
    t_sig, b_sig = c.t_holm < ALPHA, c.boot_holm < ALPHA
    if t_sig and b_sig:
        return "significant (both tests)"
    if t_sig:
        return "significant across seeds only"
    if b_sig:
        return "significant over sentences only"
    return "not significant"


def comparison_table(comparisons: Sequence[Comparison]) -> list[str]:
    if not comparisons:
        return ["Not enough paired runs yet (each comparison needs at least two common seeds)."]
    header = ["comparison", "metric", "seeds", "mean diff (t)", "t-test p", "Holm p", "bootstrap diff [95% CI]",
              "bootstrap p", "Holm p", "verdict"]
    rows = [[f"{c.a} vs {c.b}" + (f" ({CAP})" if c.caps else ""), LABELS[c.metric], str(c.n), f"{c.mean_diff:+.4f}",
             fmt_p(c.t_p), fmt_p(c.t_holm), f"{c.boot_diff:+.4f} [{c.boot_low:+.4f}, {c.boot_high:+.4f}]",
             fmt_p(c.boot_p), fmt_p(c.boot_holm), verdict(c)] for c in comparisons]
    return _md(header, rows)


def plain_summary(comparisons: Sequence[Comparison], metric: str) -> list[str]:
    lines = []
    for c in comparisons:
        if c.metric != metric:
            continue
        direction = "higher" if c.mean_diff > 0 else "lower" if c.mean_diff < 0 else "equal"
        lines.append(f"- {c.a} vs {c.b}: {LABELS[metric]} {direction} by {abs(c.mean_diff):.4f} on average over "
                     f"{c.n} seeds; {verdict(c)} (Holm p: t-test {fmt_p(c.t_holm)}, bootstrap {fmt_p(c.boot_holm)})"
                     + (f"; {c.caps} of the runs hit the update cap" if c.caps else "") + ".")
    return lines


def method_groups(study: Study) -> list[tuple[str, Setting]]:
    chosen = study.chosen or {}
    return [(m if m != "tlm" else "tlm (both)", chosen[m]) for m in study.protocol.methods if m in chosen]


def mode_groups(study: Study) -> list[tuple[str, Setting]]:
    chosen = study.chosen or {}
    if "tlm" not in chosen or not study.protocol.ablation_seeds:
        return []
    return [(f"tlm-{mode}", Setting("tlm", chosen["tlm"].rate, mode)) for mode in TLM_MODES]


def method_pairs(groups: Sequence[tuple[str, Setting]]) -> list:
    by = dict((label.split(" ")[0], (label, s)) for label, s in groups)
    pairs = [(by[m], by["none"]) for m in ("tlm", "drophead", "attention-dropout") if m in by and "none" in by]
    pairs += [(by[m], by["tlm"]) for m in ("drophead", "attention-dropout") if m in by and "tlm" in by]
    return pairs


def protocol_text(study: Study) -> str:
    p = study.protocol
    seeds = ", ".join(map(str, p.test_seeds))
    tuned = [m for m in p.methods if m != "none" and m not in dict(p.fixed)]
    parts = []
    if tuned:
        parts.append(f"{', '.join(tuned)} tuned on validation with seed {p.tune_seed} (rates "
                     f"{', '.join(f'{r:g}' for r in p.rates)}; lowest best validation loss wins)")
    if p.fixed:
        parts.append("rates fixed in advance: " + ", ".join(f"{m} {r:g}" for m, r in p.fixed))
    text = "Protocol: " + "; ".join(parts) + f"; each method's setting tested with seeds {seeds}"
    if p.ablation_seeds and "tlm" in p.methods:
        text += f"; TLM modes compared at the chosen rate with seeds {', '.join(map(str, p.ablation_seeds))}"
    return (text + f". Training stops early on validation loss; `{CAP}` marks a setting with a run that hit the "
            f"update cap instead (it may not have converged). Scores are on the `{study.split}` split. "
            f"Significance: Holm-adjusted p < {ALPHA} within each metric and test.")


def write_tables(study: Study, path: Path, title: str) -> None:
    p = study.protocol
    lines = [f"# {title}", "", protocol_text(study), "",
             "## Tuning (validation)", "", *tuning_table(study), ""]
    groups = method_groups(study)
    lines += ["## Test: each method at its chosen setting", "",
              *group_table(study, groups, p.test_seeds, with_baseline=True), ""]
    comps = compare(study, method_pairs(groups), p.test_seeds)
    lines += ["## Significance: methods", "", *comparison_table(comps), ""]
    modes = mode_groups(study)
    mode_comps: list[Comparison] = []
    if modes:
        lines += ["## Ablation: TLM modes at the chosen rate", "", *group_table(study, modes, p.ablation_seeds), ""]
        by = dict(modes)
        mode_pairs = [(("tlm-both", by["tlm-both"]), ("tlm-siblings", by["tlm-siblings"])),
                      (("tlm-both", by["tlm-both"]), ("tlm-self", by["tlm-self"])),
                      (("tlm-self", by["tlm-self"]), ("tlm-siblings", by["tlm-siblings"]))]
        mode_comps = compare(study, mode_pairs, p.ablation_seeds)
        lines += ["## Significance: TLM modes", "", *comparison_table(mode_comps), ""]
    if study.metrics:
        primary = study.metrics[0]
        summary = plain_summary(comps, primary) + plain_summary(mode_comps, primary)
        if summary:
            lines += [f"## In plain words ({LABELS[primary]}, the primary metric)", "", *summary, "",
                      "The t-test treats seeds as the unit (it assumes independent, normally distributed per-seed "
                      "differences, which a handful of seeds cannot verify); the bootstrap resamples test sentences "
                      "with the seeds fixed. A difference that only one of them finds is weak evidence.", ""]
    write_text_atomic(path, "\n".join(lines))


def write_plots(study: Study, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = study.protocol
    panels = [("methods (chosen settings)", method_groups(study), p.test_seeds),
              ("TLM modes (chosen rate)", mode_groups(study), p.ablation_seeds)]
    panels = [x for x in panels if any(study.runs_of(setting, x[2]) for _, setting in x[1])]
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
        for ax, (title, groups, seeds) in zip(axes[0], panels):
            tops = []
            for label, setting in groups:
                curves = [study.results[r]["curve"] for r in study.runs_of(setting, seeds)]
                if not curves:
                    continue
                # the band covers the updates every run reached (runs stop early at different points);
                # each run's own curve is drawn thin to its end
                steps = sorted(set.intersection(*({int(u) for u, _ in c} for c in curves)))
                values = [[loss for c in curves for u, loss in c if int(u) == s] for s in steps]
                mean = np.array([np.mean(v) for v in values])
                sd = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values])
                line, = ax.plot(steps, mean, label=f"{label} (n={len(curves)})")
                ax.fill_between(steps, mean - sd, mean + sd, color=line.get_color(), alpha=0.2)
                for c in curves:
                    ax.plot([u for u, _ in c], [loss for _, loss in c], color=line.get_color(), lw=0.5, alpha=0.5)
                tops.append(float(np.quantile(mean, 0.6)))
            lows = [min(loss for r in study.results.values() for _, loss in r["curve"])]
            if tops:
                ax.set_ylim(min(lows) - 0.05, max(tops))
            ax.set_xlabel("updates")
            ax.set_ylabel("validation loss (base 2): mean ± sd, and each run")
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        _save(fig, out / "valid_curves.png")

    metrics = study.metrics
    groups = [(g, p.test_seeds) for g in method_groups(study)] + \
             [(g, p.ablation_seeds) for g in mode_groups(study) if g[0] != "tlm-both"]
    if metrics and groups:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 4.2), squeeze=False)
        for ax, metric in zip(axes[0], metrics):
            for k, ((label, setting), seeds) in enumerate(groups):
                runs = study.runs_of(setting, seeds)
                values = [study.score(r, metric) for r in runs]
                if not values:
                    continue
                s = summarize(values)
                ax.scatter([k] * len(values), values, s=12, color="grey", alpha=0.6, zorder=2)
                err = None if s.n < 2 else [[s.mean - s.ci_low], [s.ci_high - s.mean]]
                ax.errorbar([k], [s.mean], yerr=err, fmt="o", color="C0" if study.cap_hits(runs) == 0 else "C3",
                            capsize=4, zorder=3)
            if study.baseline and metric != "m2" and metric in study.baseline:  # copy's F0.5 is 0 by definition
                ax.axhline(study.baseline[metric], ls="--", color="grey", lw=1, label="source copy (no model)")
                ax.legend(fontsize=7, loc="lower right")
            ax.set_xticks(range(len(groups)))
            ax.set_xticklabels([g[0][0] for g in groups], rotation=30, ha="right", fontsize=8)
            ax.set_title(f"test {LABELS[metric]}: mean, 95% CI, seeds")
            ax.grid(alpha=0.3, axis="y")
        fig.text(0.01, 0.01, "red: a run of that setting hit the update cap", fontsize=7)
        _save(fig, out / "test_scores.png")


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_write(path, binary=True) as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


def write_all(study: Study, out: Path, title: str) -> None:
    write_csv(study, out / "runs.csv")
    write_tables(study, out / "tables.md", title)
    write_plots(study, out)


def load_baseline(out: Path) -> dict | None:
    path = out / "baseline.json"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_results(runs_dir: Path) -> dict[Run, dict]:
    results: dict[Run, dict] = {}
    if not runs_dir.is_dir():
        return results
    for path in sorted(runs_dir.glob("*/result.json")):
        with open(path, encoding="utf-8") as fh:
            res = json.load(fh)
        results[Run(Setting.parse(res["setting"]), int(res["seed"]))] = res
    return results
