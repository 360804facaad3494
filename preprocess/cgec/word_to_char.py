"""Convert a word-level M2 file (NLPCC 2018 gold, PKUNLP segmentation) to character level.

Each edit's word offsets are mapped to character offsets and its correction is split into
characters. In the default ``minimal`` mode the edit is then narrowed to the characters that
actually change, as the ChERRANT character-level gold does: touching edits of one annotator are
joined, pure reorderings stay whole (``W``), every other edit is split at the characters its
source and correction share (:mod:`preprocess.cgec.align`), and touching pieces are joined again.
``mapped`` mode stops after the offset mapping.

``--compare REF`` measures agreement with a reference character-level M2 (error types ignored).

    python -m preprocess.cgec.word_to_char nlpcc18_test.word.m2 out.char.m2 --compare nlpcc18_test.char.m2
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import InputError
from tlm_fairseq.files import atomic_write
from tlm_fairseq.scoring.m2.reader import M2Block, M2Edit, write_blocks

from .align import diff_spans, is_reordering
from .m2 import edit_sets, read_m2, targets


@dataclass
class _Span:
    start: int
    end: int
    correction: list[str]
    template: M2Edit
    reorder: bool = False


def _touching(a: _Span, b: _Span) -> bool:
    both_inserts = a.start == a.end == b.start == b.end
    return a.end == b.start and not a.reorder and not b.reorder and not both_inserts


def _join(spans: list[_Span]) -> list[_Span]:
    out: list[_Span] = []
    for s in spans:
        if out and _touching(out[-1], s):
            prev = out.pop()
            s = _Span(prev.start, s.end, prev.correction + s.correction, prev.template)
        out.append(s)
    return out


def _minimize(chars: list[str], span: _Span) -> list[_Span]:
    src = chars[span.start:span.end]
    if is_reordering(src, span.correction):
        return [_Span(span.start, span.end, span.correction, span.template, reorder=True)]
    return [
        _Span(span.start + i, span.start + j, span.correction[k:l], span.template)
        for i, j, k, l in diff_spans(src, span.correction)
    ]


def convert_sentence(sent: M2Block, mode: str = "minimal") -> M2Block:
    """Character-level version of one word-level M2 block (``T``/``I`` lines are not carried over)."""
    chars = [ch for tok in sent.tokens for ch in tok]
    offsets = [0, *accumulate(len(tok) for tok in sent.tokens)]
    edits: list[M2Edit] = []
    for ann in sent.annotators():
        for group in edit_sets(sent, ann):
            spans = [
                _Span(offsets[e.start], offsets[e.end], [ch for tok in e.correction for ch in tok], e)
                for e in group
            ]
            if mode == "minimal":
                spans = [piece for s in _join(spans) for piece in _minimize(chars, s)]
                spans = _join(spans)
            if not spans:
                template = group[0] if group else next(e for e in sent.edits if e.annotator == ann)
                edits.append(M2Edit.from_tokens(-1, -1, "noop", (), ann, template.required, template.comment))
                continue
            for s in spans:
                t = s.template
                edits.append(M2Edit.from_tokens(s.start, s.end, t.etype, s.correction, ann, t.required, t.comment))
    return M2Block.of(chars, edits, sent.line)


@dataclass
class Agreement:
    """How a converted file compares with a reference character-level M2 file.

    Sentences whose edits differ are sorted by cause; every list holds 0-based indices.
    ``same_corrections``: the edits are cut differently (ChERRANT aligns whole sentences) but each
    annotator's corrected sentences are the same. ``repeated_id_ours`` / ``repeated_id_reference``:
    one side repeats an annotator id with an edit set that yields an identical corrected sentence
    and the other side keeps a single set. ``other``: the corrected sentences differ.
    """

    sentences: int = 0
    source_mismatch: list[int] = field(default_factory=list)
    exact: int = 0
    same_corrections: list[int] = field(default_factory=list)
    repeated_id_ours: list[int] = field(default_factory=list)
    repeated_id_reference: list[int] = field(default_factory=list)
    other: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "sentences": self.sentences,
            "source_differs": len(self.source_mismatch),
            "edits_agree": self.exact,
            "edits_differ_same_corrections": len(self.same_corrections),
            "edits_differ_repeated_annotator_id_in_input": len(self.repeated_id_ours),
            "edits_differ_repeated_annotator_id_in_reference": len(self.repeated_id_reference),
            "corrections_differ": len(self.other),
            "first_source_differs": self.source_mismatch[:20],
            "first_same_corrections": self.same_corrections[:20],
            "first_repeated_annotator_id_in_input": self.repeated_id_ours[:20],
            "first_repeated_annotator_id_in_reference": self.repeated_id_reference[:20],
            "first_corrections_differ": self.other[:20],
        }


def _edit_keys(sent: M2Block) -> Counter[tuple[int, int, tuple[str, ...], int]]:
    return Counter((e.start, e.end, e.correction, e.annotator) for e in sent.edits)


def _corrections(sent: M2Block) -> dict[int, set[tuple[str, ...]]]:
    return {ann: {tuple(t) for t in targets(sent, ann)} for ann in sent.annotators()}


def _repeats_id(sent: M2Block) -> bool:
    return any(len(edit_sets(sent, ann)) > 1 for ann in sent.annotators())


def compare(ours: list[M2Block], ref: list[M2Block], ref_path: str) -> Agreement:
    """Sentence-by-sentence agreement; error-type labels are ignored."""
    if len(ours) != len(ref):
        raise InputError(ref_path, None, f"has {len(ref)} sentences, the converted file {len(ours)}")
    agg = Agreement(sentences=len(ours))
    for i, (a, b) in enumerate(zip(ours, ref)):
        if a.tokens != b.tokens:
            agg.source_mismatch.append(i)
        elif _edit_keys(a) == _edit_keys(b):
            agg.exact += 1
        elif _corrections(a) != _corrections(b):
            agg.other.append(i)
        elif _repeats_id(a) and not _repeats_id(b):
            agg.repeated_id_ours.append(i)
        elif _repeats_id(b) and not _repeats_id(a):
            agg.repeated_id_reference.append(i)
        else:
            agg.same_corrections.append(i)
    return agg


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="tlm-m2-word2char", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("word_m2", help="word-level M2 file")
    p.add_argument("output", help="character-level M2 file to write")
    p.add_argument("--mode", choices=["minimal", "mapped"], default="minimal",
                   help="minimal: narrow edits to changed characters like ChERRANT (default); mapped: offsets only")
    p.add_argument("--compare", metavar="REF_CHAR_M2", help="reference character-level M2 to measure agreement with")
    p.add_argument("--report-json", metavar="FILE", help="also write the agreement report as JSON")
    return p


def _main(args: argparse.Namespace) -> int:
    sentences = [convert_sentence(s, args.mode) for s in read_m2(args.word_m2)]  # ~1 s for 2000 sentences
    ref = list(read_m2(args.compare)) if args.compare else None
    with atomic_write(args.output) as fh:
        write_blocks(sentences, fh)
    print(f"wrote {len(sentences)} sentences to {args.output}")
    if ref is not None:
        report = compare(sentences, ref, args.compare).summary()
        for key, value in report.items():
            print(f"{key:50s} {value}")
        if args.report_json:
            with atomic_write(args.report_json) as fh:
                json.dump(report, fh, ensure_ascii=False, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``tlm-m2-word2char``."""
    return run_cli(build_parser(), _main, argv)


if __name__ == "__main__":
    sys.exit(main())
