"""Turn fairseq hypotheses (parsed by :mod:`tlm_fairseq.generation_output`) into M2-ready text.

:func:`restore_unk` copies out-of-vocabulary source tokens back for ``<unk>`` (in GEC an unknown
character is almost always kept as is). :func:`m2_tokens` re-tokenizes a detokenized sentence the
way the gold M2 file is tokenized.
"""
from __future__ import annotations

import difflib
import os
from typing import Callable, Sequence

from tlm_fairseq.files import iter_lines

from .tokenize_zh import m2_chars

UNK = "<unk>"


def read_vocab(dict_path: str | os.PathLike[str]) -> set[str]:
    """Symbols of a fairseq ``dict.*.txt`` (one ``symbol count`` per line)."""
    return {line.rsplit(" ", 1)[0] for _, line in iter_lines(dict_path) if line.strip()}


def restore_unk(hyp: Sequence[str], src: Sequence[str], vocab: set[str]) -> list[str]:
    """Replace the k-th ``<unk>`` of ``hyp`` by the k-th out-of-vocabulary token of ``src``.

    An ``<unk>`` without a matching source token is dropped rather than printed literally.
    """
    oov = iter([t for t in src if t not in vocab])
    out: list[str] = []
    for tok in hyp:
        if tok == UNK:
            nxt = next(oov, None)
            if nxt is not None:
                out.append(nxt)
        else:
            out.append(tok)
    return out


def _jieba_cut(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.lcut(text, HMM=True) if w.strip()]


def segment_like_source(hyp: str, src_words: Sequence[str], cut: Callable[[str], list[str]] = _jieba_cut) -> list[str]:
    """Word-segment ``hyp`` reusing the gold source's segmentation wherever a word is unchanged.

    A source word whose characters all survive contiguously in ``hyp`` keeps its boundaries;
    only the changed stretches between such words are segmented by ``cut`` (jieba). This
    approximates NLPCC's official PKUNLP segmentation much better than segmenting the whole
    hypothesis with jieba, which would make every segmentation disagreement look like an edit.
    """
    text = "".join(hyp.split())
    src = "".join(src_words)
    mapping = [-1] * len(src)
    matcher = difflib.SequenceMatcher(None, src, text, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapping[block.a + k] = block.b + k
    word_start: dict[int, int] = {}  # hyp position -> end of the kept source word starting there
    pos = 0
    for word in src_words:
        span = mapping[pos:pos + len(word)]
        if span and span[0] >= 0 and all(b == span[0] + k for k, b in enumerate(span)):
            word_start[span[0]] = span[0] + len(word)
        pos += len(word)
    out: list[str] = []
    j, changed_from = 0, 0
    while j < len(text):
        if j in word_start:
            if changed_from < j:
                out += cut(text[changed_from:j])
            out.append(text[j:word_start[j]])
            j = changed_from = word_start[j]
        else:
            j += 1
    if changed_from < len(text):
        out += cut(text[changed_from:])
    return out


def m2_tokens(hyp: str, level: str, src_words: Sequence[str] | None = None, word_seg: str = "anchored") -> list[str]:
    """Tokens of ``hyp`` as the gold M2 counts them: characters, or words (see above)."""
    if level == "char":
        return m2_chars(hyp)
    if word_seg == "anchored" and src_words is not None:
        return segment_like_source(hyp, src_words)
    return _jieba_cut("".join(hyp.split()))
