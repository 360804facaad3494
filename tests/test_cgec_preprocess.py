"""CGEC preprocessing: readers, normalization/tokenization, M2 conversion, splits, bad input, CLI.

Real-data tests read ``../shared/data/cgec`` (skipped with a message when absent); the rest use
the embedded sample in ``tests/data/cgec`` or small files written on the spot.
"""
from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from helpers import ENV, PY, ROOT, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preprocess.cgec import prep as cgec, tokenize_zh
from preprocess.cgec import word_to_char as m2_word_to_char
from preprocess.cgec.bpe import CharSegmenter, train_spm
from preprocess.cgec.hyp import m2_tokens, read_vocab, restore_unk, segment_like_source
from preprocess.cgec.m2 import edit_sets, read_m2, targets
from preprocess.cgec.readers import Pair, read_m2_pairs, read_mucgec, read_nlpcc, read_parallel
from preprocess.cgec.split import LengthFilter, dedup, split_valid
from tlm_fairseq.errors import InputError, UserError
from tlm_fairseq.files import atomic_dir, atomic_write, iter_lines
from tlm_fairseq.scoring.m2 import write_blocks

SAMPLE = ROOT / "tests" / "data" / "cgec"


@pytest.fixture(scope="module")
def cgec_data(shared_data: Path) -> Path:
    path = shared_data / "cgec"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


# --------------------------------------------------------------------------- readers

def test_nlpcc_sample_counts_and_copy_pairs() -> None:
    path = SAMPLE / "nlpcc2018_format_sample.txt"
    pairs = list(read_nlpcc(path))
    with_copies = list(read_nlpcc(path, keep_correct=True))
    # 189 lines with one correction, 6 with two, 5 with none (see the sample README)
    assert len(pairs) == 189 + 2 * 6
    assert len(with_copies) == len(pairs) + 5
    copies = [p for p in with_copies if p.src == p.tgt]
    assert len(copies) == 5
    assert pairs[0] == Pair("利马因马里克河而得明。", "利马因马里克河而得名。", f"{path}:1")


def test_mucgec_no_error_reference_is_a_copy_pair(cgec_data: Path) -> None:
    path = cgec_data / "mucgec_dev.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    n_refs = sum(len(line.split("\t")) - 2 for line in lines)
    n_no_error = sum(line.split("\t")[2:].count("没有错误") for line in lines)
    kept = list(read_mucgec(path, keep_correct=True))
    assert len(lines) == 1137 and len(kept) == n_refs and n_no_error == 55
    assert not any(p.tgt == "没有错误" for p in kept)
    assert len(list(read_mucgec(path))) == n_refs - n_no_error
    first = kept[0]
    assert first.src == "因为在冰箱里没什么东西也做很好吃的菜。" and first.tgt == "即使在冰箱里没什么东西也能做很好吃的菜。"


def test_mucgec_test_sources_need_placeholder_mode(cgec_data: Path) -> None:
    path = cgec_data / "mucgec_test_src.txt"
    with pytest.raises(InputError, match=r"mucgec_test_src.txt:1: no reference"):
        next(read_mucgec(path))
    pairs = list(read_mucgec(path, require_references=False))
    assert len(pairs) == 6000 and all(p.src == p.tgt for p in pairs)
    # line 342 has a byte-order mark inside the line: the reader keeps it, normalization removes it
    assert pairs[341].src.startswith("\ufeff") and not tokenize_zh.normalize(pairs[341].src).startswith("\ufeff")


text_field = st.text(st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda s: s.strip() not in ("", "没有错误") and not s.startswith("\ufeff")
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(text_field, st.lists(text_field, max_size=3)), min_size=1, max_size=5))
def test_nlpcc_and_mucgec_readers_round_trip(tmp_path: Path, rows: list[tuple[str, list[str]]]) -> None:
    nlpcc = write(tmp_path / "n.txt", "".join("\t".join([str(i), str(len(c)), s, *c]) + "\n" for i, (s, c) in enumerate(rows)))
    expected = [(s, t) for s, c in rows for t in c]
    assert [(p.src, p.tgt) for p in read_nlpcc(nlpcc)] == expected
    assert [(p.src, p.tgt) for p in read_nlpcc(nlpcc, keep_correct=True)] == [
        (s, t) for s, c in rows for t in (c or [s])
    ]
    mucgec = write(tmp_path / "m.txt", "".join("\t".join([str(i), s, *c]) + "\n" for i, (s, c) in enumerate(rows) if c))
    assert [(p.src, p.tgt) for p in read_mucgec(mucgec, keep_correct=True)] == expected


def test_parallel_reader_round_trip_with_crlf_and_bom(tmp_path: Path) -> None:
    src = write(tmp_path / "a.src", "\ufeff我们去学校。\r\n他很高兴\r\n")
    tgt = write(tmp_path / "a.tgt", "我们去学校了。\n他很高兴。")
    pairs = list(read_parallel(src, tgt))
    assert [(p.src, p.tgt) for p in pairs] == [("我们去学校。", "我们去学校了。"), ("他很高兴", "他很高兴。")]


def test_m2_reader_writer_round_trip_on_sample() -> None:
    for level in ("word", "char"):
        path = SAMPLE / f"nlpcc18_test_sample.{level}.m2"
        sents = list(read_m2(path))
        buf = io.StringIO()
        write_blocks(sents, buf)
        assert buf.getvalue() == path.read_text(encoding="utf-8")
        assert len(sents) == 60


def test_m2_targets_noop_none_alternatives_and_repeated_ids(tmp_path: Path) -> None:
    m2 = write(tmp_path / "x.m2", "\n".join([
        "S 我 喜欢 吃 苹果",
        "A 1 2|||S|||爱||喜爱|||REQUIRED|||-NONE-|||0",
        "A 2 3|||R|||-NONE-|||REQUIRED|||-NONE-|||0",
        "A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||1",
        "A 0 1|||S|||你|||REQUIRED|||-NONE-|||2",
        "A 0 0|||M|||今天|||REQUIRED|||-NONE-|||2",
        "",
        "S 好",
        "",
    ]) + "\n")
    sents = list(read_m2(m2))
    s = sents[0]
    assert s.annotators() == [0, 1, 2]
    assert targets(s, "0") == [["我", "爱", "苹果"]]
    assert targets(s, "1") == [["我", "喜欢", "吃", "苹果"]]
    assert len(edit_sets(s, "2")) == 2  # (0,0) starts before the end of (0,1): a second set
    assert targets(s, "2") == [["你", "喜欢", "吃", "苹果"], ["今天", "我", "喜欢", "吃", "苹果"]]
    assert targets(s, "9") == [["我", "喜欢", "吃", "苹果"]]
    assert targets(sents[1], "0") == [["好"]]
    assert [(p.src, p.tgt) for p in read_m2_pairs(m2, None)] == [
        ("我喜欢吃苹果", "我爱苹果"), ("我喜欢吃苹果", "我喜欢吃苹果"), ("我喜欢吃苹果", "你喜欢吃苹果"),
        ("我喜欢吃苹果", "今天我喜欢吃苹果"), ("好", "好"),
    ]


def test_m2_real_file_targets(cgec_data: Path) -> None:
    sents = list(read_m2(cgec_data / "nlpcc18_test.word.m2"))
    assert len(sents) == 2000
    assert "".join(targets(sents[0], "0")[0]) == "冬阴功是泰国最著名的菜之一，虽然它不是很豪华，但它的味确实让人上瘾，做法也不难、不复杂。"
    # annotator 0 repeats its id in 24 sentences, always with the same corrected sentence
    assert sum(len(edit_sets(s, "0")) > 1 for s in sents) == 24
    assert len(list(read_m2_pairs(cgec_data / "nlpcc18_test.word.m2"))) == 2000
    assert len(list(read_m2_pairs(cgec_data / "nlpcc18_test.word.m2", None))) == 2183


# --------------------------------------------------------------------------- normalization / tokenization

def test_normalization_decisions() -> None:
    n = tokenize_zh.normalize
    assert n("２０１８年ＮＬＰＣＣ") == "2018年NLPCC"
    assert n("你好，世界！（对）") == "你好，世界！（对）"  # full-width punctuation is kept
    assert n("\ufeff据\u200b世界\u3000银行  预测\t。 ") == "据世界 银行 预测 。"
    assert n("a\u2581b") == "a_b"
    assert tokenize_zh.tokenize("I love 北京10") == ["I", "▁", "l", "o", "v", "e", "▁", "北", "京", "1", "0"]
    assert tokenize_zh.detokenize("I ▁ l o v e ▁ 北 京") == "I love 北京"


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_char_tokenization_is_reversible_on_normalized_text(text: str) -> None:
    norm = tokenize_zh.normalize(text)
    assert tokenize_zh.normalize(norm) == norm
    tokens = tokenize_zh.tokenize(norm)
    assert all(tok and not tok.isspace() for tok in tokens)
    assert tokenize_zh.detokenize(tokens) == norm
    assert tokenize_zh.detokenize(" ".join(tokens)) == norm


def test_sentencepiece_round_trip(tmp_path: Path) -> None:
    texts = [tokenize_zh.normalize(s) for p in read_mucgec(SAMPLE / "mucgec_dev_sample.txt") for s in (p.src, p.tgt)]
    with pytest.raises(UserError, match=r"--spm-vocab-size 600 is smaller than the \d+ characters"):
        train_spm(texts, tmp_path / "spm.model", vocab_size=600)
    seg = train_spm(texts, tmp_path / "spm.model", vocab_size=2000)
    unseen = "鱻龘 Hello，２０２４！"
    for text in texts + [tokenize_zh.normalize(unseen)]:
        pieces = seg.encode(text)
        assert seg.decode(pieces) == text
        assert all(" " not in piece for piece in pieces)
    assert sum(len(seg.encode(t)) for t in texts) < sum(len(CharSegmenter().encode(t)) for t in texts)


# --------------------------------------------------------------------------- word -> char M2

def test_word_to_char_minimal_edits(tmp_path: Path) -> None:
    src = write(tmp_path / "w.m2", "\n".join([
        "S 身体 建康 。",
        "A 1 2|||S:SPELL|||健康|||REQUIRED|||-NONE-|||0",
        "",
        "S 它 虽然 不 好",
        "A 0 2|||W|||虽然 它|||REQUIRED|||-NONE-|||0",
        "A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||1",
        "",
        "S 工业 把 中国 当 个 国家",
        "A 3 4|||S|||变成|||REQUIRED|||-NONE-|||0",
        "A 4 5|||S|||一个|||REQUIRED|||-NONE-|||0",
        "A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0",
        "",
    ]) + "\n")
    sents = [m2_word_to_char.convert_sentence(s) for s in read_m2(src)]
    key = lambda s: [(e.start, e.end, " ".join(e.correction), e.annotator) for e in s.edits]  # noqa: E731
    assert sents[0].tokens == tuple("身体建康。")
    assert key(sents[0]) == [(2, 3, "健", 0)]
    assert key(sents[1]) == [(0, 3, "虽 然 它", 0), (-1, -1, "", 1)]
    # 当个国家 -> 变成一个: touching edits joined, the shared 个 kept
    assert key(sents[2]) == [(5, 6, "变 成 一", 0), (7, 9, "", 0)]
    assert sents[1].edits[1].to_line() == "A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||1"
    mapped = [m2_word_to_char.convert_sentence(s, "mapped") for s in read_m2(src)]
    assert key(mapped[0]) == [(2, 4, "健 康", 0)]
    for word, char in zip(read_m2(src), sents):
        for ann in word.annotators():
            assert ["".join(t) for t in targets(word, ann)] == ["".join(t) for t in targets(char, ann)]


def test_word_to_char_agrees_with_reference_char_file(cgec_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "conv.char.m2"
    rc = m2_word_to_char.main([str(cgec_data / "nlpcc18_test.word.m2"), str(out), "--compare", str(cgec_data / "nlpcc18_test.char.m2")])
    assert rc == 0
    ours = list(read_m2(out))
    ref = list(read_m2(cgec_data / "nlpcc18_test.char.m2"))
    agg = m2_word_to_char.compare(ours, ref, "ref")
    assert agg.sentences == 2000 and not agg.source_mismatch
    assert not agg.other, f"corrected sentences differ in {agg.other}"
    assert agg.exact == 1896
    assert (len(agg.same_corrections), len(agg.repeated_id_ours), len(agg.repeated_id_reference)) == (66, 22, 16)
    assert 48 in agg.repeated_id_ours and 28 in agg.repeated_id_reference


# --------------------------------------------------------------------------- split / filter / dedup

def _pairs(n: int) -> list[Pair]:
    return [Pair(f"句子{i // 2}", f"改正{i}", f"f:{i}") for i in range(n)]


def test_valid_split_is_deterministic_grouped_and_order_free() -> None:
    pairs = _pairs(200)
    train, valid = split_valid(pairs, 10, seed=3)
    assert len({p.src for p in valid}) == 10 and len(valid) == 20  # both targets of each source
    assert not {p.src for p in train} & {p.src for p in valid}
    train2, valid2 = split_valid(list(reversed(pairs)), 10, seed=3)
    assert {p.src for p in valid2} == {p.src for p in valid}
    assert {p.src for p in split_valid(pairs, 10, seed=4)[1]} != {p.src for p in valid}
    with pytest.raises(ValueError, match="leaves no training data"):
        split_valid(pairs, 100)


def test_dedup_and_length_filter() -> None:
    pairs = [Pair("a", "b", "x:1"), Pair("a", "b", "x:2"), Pair("a", "c", "x:3")]
    assert [p.origin for p in dedup(pairs)] == ["x:1", "x:3"]
    f = LengthFilter(min_len=2, max_len=5, max_ratio=2.0)
    assert f.keep(list("abc"), list("abcd"))
    assert not f.keep(list("a"), list("ab"))
    assert not f.keep(list("abcdef"), list("abc"))
    assert not f.keep(list("ab"), list("abcde"))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize(("text", "message"), [
    ("1\t2\t源句\t改1\n", r"bad.txt:1: says 2 correction\(s\) but has 1"),
    ("1\t1\t源句\t改1\n2\tx\t源句\n", r"bad.txt:2: second field must be the number of corrections"),
    ("ok\t0\t源句\n1\t源句\n", r"bad.txt:2: expected 'id<TAB>n<TAB>source"),
    (b"1\t1\t\xe6\xba\x90\t\xff\n", r"bad.txt:1: invalid UTF-8 \(byte 0xff at byte 9\)"),
])
def test_nlpcc_bad_lines(tmp_path: Path, text: str | bytes, message: str) -> None:
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(InputError, match=message):
        list(read_nlpcc(path))
    skipped: list[InputError] = []
    list(read_nlpcc(path, skipped=skipped))
    assert len(skipped) == 1


@pytest.mark.parametrize(("text", "message"), [
    ("S 我 们\nA 0 x|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:2: malformed A line \(offsets '0 x' are not two"),
    ("S 我 们\nA 0 3|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:2: edit span 0 3 outside the sentence \(0..2\)"),
    ("S 我 们\nA 2 1|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:2: edit span 2 1 starts after it ends"),
    ("S 我 们\nA -3 1|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:2: edit span -3 1 is negative"),
    ("S 我\nA 0 1|||S|||你|||REQUIRED|||-NONE-|||0\nS 们\n", r"bad.m2:3: 'S' line without a blank line before it"),
    ("S 我 们\nA 0 1|||S\n", r"bad.m2:2: malformed A line \(expected 6 '\|\|\|'-separated fields, got 2\)"),
    ("S 我 们\nA 0 1|||S|||你\n", r"bad.m2:2: malformed A line \(expected 6 '\|\|\|'-separated fields, got 3\)"),
    ("A 0 1|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:1: a block must start with an 'S' line"),
    ("S 我\n\nT 我们\n", r"bad.m2:3: a block must start with an 'S' line"),
    ("S 我\nA 0 1 2|||S|||你|||REQUIRED|||-NONE-|||0\n", r"bad.m2:2: malformed A line \(offsets '0 1 2' are not two"),
])
def test_m2_bad_lines(tmp_path: Path, text: str, message: str) -> None:
    """Preprocessing reads strictly: what the scorer only warns about is an error here too."""
    with pytest.raises(InputError, match=message):
        list(read_m2(write(tmp_path / "bad.m2", text)))


def test_m2_cherrant_t_lines_are_accepted_by_preprocessing(tmp_path: Path) -> None:
    path = write(tmp_path / "t.m2", "S 我 们\nT0-A0 我 们 好\nA 2 2|||M|||好|||REQUIRED|||-NONE-|||0\n\n")
    assert [(p.src, p.tgt) for p in read_m2_pairs(path)] == [("我们", "我们好")]


def test_mucgec_and_parallel_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"m.txt:2: expected 'id<TAB>source"):
        list(read_mucgec(write(tmp_path / "m.txt", "1\t源\t改\n2\n")))
    a = write(tmp_path / "a.src", "一\n二\n三\n")
    b = write(tmp_path / "b.tgt", "一\n二\n")
    with pytest.raises(InputError, match=r"b.tgt:3: ends before .*a.src"):
        list(read_parallel(a, b))
    with pytest.raises(InputError, match=r"a.src:3: has more lines than .*b.tgt"):
        list(read_parallel(b, a))
    with pytest.raises(InputError, match=r"missing.txt: cannot open"):
        list(iter_lines(tmp_path / "missing.txt"))


def test_bom_and_crlf_read_like_clean_files(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean.txt", "1\t1\t源句\t改句\n2\t0\t好句\n")
    dirty = write(tmp_path / "dirty.txt", "\ufeff1\t1\t源句\t改句\r\n2\t0\t好句\r\n")
    strip = lambda ps: [(p.src, p.tgt) for p in ps]  # noqa: E731
    assert strip(read_nlpcc(dirty, True)) == strip(read_nlpcc(clean, True))


def test_atomic_writers_leave_nothing_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with atomic_write(tmp_path / "out.txt") as fh:
            fh.write("half")
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "outdir") as d:
            (d / "x").write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with atomic_write(tmp_path / "ok.txt") as fh:
        fh.write("done")
    assert (tmp_path / "ok.txt").read_text() == "done"
    assert (tmp_path / "ok.txt").stat().st_mode & 0o777 == 0o666 & ~_umask()


# --------------------------------------------------------------------------- CLI

def run_prep(*args: str) -> subprocess.CompletedProcess[str]:
    return run([PY, "-m", "preprocess.cgec", *args], check=False)


def test_cli_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.txt", "1\t1\t源句\t改1\n2\t3\t源句\t改\n")
    cases = [
        ([], "the following arguments are required: --out"),
        (["--out", str(tmp_path / "o")], "no training data"),
        (["--train-nlpcc", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")], "nope.txt: cannot open"),
        (["--train-nlpcc", str(bad), "--valid-size", "1", "--out", str(tmp_path / "o")], "bad.txt:2: says 3 correction(s) but has 1"),
        (["--train-nlpcc", str(bad), "--valid-size", "-1", "--out", str(tmp_path / "o")], "--valid-size must be >= 0"),
        (["--train-nlpcc", str(bad), "--bpe", "bpe", "--out", str(tmp_path / "o")], "invalid choice: 'bpe'"),
    ]
    for args, message in cases:
        proc = run_prep(*args)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tlm-prep-cgec: error: ") and message in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()


def _sample_args(out: Path, *extra: str) -> list[str]:
    return ["--train-nlpcc", str(SAMPLE / "nlpcc2018_format_sample.txt"), "--train-mucgec", str(SAMPLE / "mucgec_dev_sample.txt"),
            "--valid-size", "20", "--test-m2", str(SAMPLE / "nlpcc18_test_sample.word.m2"), "--out", str(out), *extra]


def test_cli_failure_inside_output_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: object, **_k: object) -> None:
        raise cgec.UserError("fairseq-preprocess failed: simulated")

    monkeypatch.setattr(cgec, "binarize", fail)
    out = tmp_path / "prep"
    assert cgec.main(_sample_args(out)) == 2
    assert list(tmp_path.iterdir()) == []


def test_cli_sentencepiece_pipeline_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "prep"
    proc = run_prep(*_sample_args(out, "--bpe", "sentencepiece", "--spm-vocab-size", "2500", "--max-ratio", "3", "--keep-correct"))
    assert proc.returncode == 0, proc.stderr
    import json

    meta = json.loads((out / "data-bin" / "prep.json").read_text())
    assert meta["bpe"] == "sentencepiece" and (out / "data-bin" / "spm.model").is_file()
    stats = meta["stats"]
    assert stats["test_pairs"] == 60 and stats["valid_pairs"] >= 20
    assert stats["train_read"] == 189 + 2 * 6 + 5 + sum(
        len(line.split("\t")) - 2 for line in (SAMPLE / "mucgec_dev_sample.txt").read_text(encoding="utf-8").splitlines()
    )
    for split in ("train", "valid", "test"):
        assert (out / "data-bin" / f"{split}.src-tgt.src.bin").is_file()
        n_src = len((out / "text" / f"{split}.src").read_text(encoding="utf-8").splitlines())
        assert n_src == stats[f"{split}_pairs"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    again = run_prep(*_sample_args(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    forced = run_prep(*_sample_args(out, "--force"))
    assert forced.returncode == 0, forced.stderr
    assert json.loads((out / "prep.json").read_text())["bpe"] == "char"
    assert [p.name for p in tmp_path.iterdir()] == ["prep"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- generation output handling

def test_read_vocab_reads_fairseq_dictionary(tmp_path: Path) -> None:
    path = write(tmp_path / "dict.src.txt", "我 10\r\n\u2028x 3\n的 2")  # U+2028 does not split a line
    assert read_vocab(path) == {"我", "\u2028x", "的"}


def test_restore_unk_copies_source_oov() -> None:
    vocab = {"我", "爱", "的"}
    assert restore_unk(["我", "<unk>", "的", "<unk>", "<unk>"], ["我", "鱻", "的", "龘"], vocab) == ["我", "鱻", "的", "龘"]


def test_word_level_segmentation_anchors_on_gold_source(cgec_data: Path) -> None:
    sents = list(read_m2(cgec_data / "nlpcc18_test.word.m2"))
    assert all(m2_tokens("".join(s.tokens), "word", s.tokens) == list(s.tokens) for s in sents)
    words = ["身体", "建康", "很", "重要", "。"]
    seg = segment_like_source("身体健康很重要。", words, cut=lambda text: [text])
    assert seg == ["身体", "健康", "很", "重要", "。"]
    assert m2_tokens("身体 健康", "char") == ["身", "体", "健", "康"]


# --------------------------------------------------------------------------- training recipe

@pytest.mark.parametrize(("reg", "expected", "absent"), [
    ("tlm", ["--tlm-rate 0.1", "--tlm-mode both"], ["--drophead-rate", "--attention-dropout"]),
    ("none", ["--tlm-rate 0 "], ["--drophead-rate", "--attention-dropout", "--tlm-mode"]),
    ("attn-dropout", ["--tlm-rate 0 ", "--attention-dropout 0.1"], ["--drophead-rate"]),
    ("drophead", ["--tlm-rate 0 ", "--drophead-rate 0.1"], ["--attention-dropout"]),
])
def test_train_script_regularizer_flag(tmp_path: Path, reg: str, expected: list[str], absent: list[str]) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("dict.src.txt", "train.src-tgt.src.idx"):
        (bin_dir / name).write_text("")
    env = {**ENV, "PYTHON": PY, "USE_FP16": "1" if reg == "tlm" else "0"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "train_cgec.sh"), str(bin_dir), str(tmp_path / "ck"), "--reg", reg,
                           "--dry-run", "--max-update", "7"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    cmd = proc.stdout
    assert ("--fp16" in cmd) == (reg == "tlm")
    for flag in expected + ["--arch tlm_transformer_cgec", "--share-all-embeddings", "--label-smoothing 0.1",
                            "--lr-scheduler inverse_sqrt", "--warmup-updates 4000", "--user-dir " + str(ROOT / "tlm_fairseq")]:
        assert flag in cmd
    for flag in absent:
        assert flag not in cmd
    assert cmd.rstrip().endswith("--max-update 7")


def test_train_script_rejects_bad_usage(tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "train_cgec.sh")
    for args, message in [([], "DATA_BIN and SAVE_DIR are required"), ([str(tmp_path), "x"], "is not a binarized CGEC data-bin")]:
        proc = subprocess.run(["bash", script, *args], capture_output=True, text=True)
        assert proc.returncode == 2 and message in proc.stderr
    (tmp_path / "dict.src.txt").write_text("")
    (tmp_path / "train.src-tgt.src.idx").write_text("")
    for args, message in [(["--reg", "dropout"], "--reg must be one of tlm, none, attn-dropout, drophead"), (["--reg"], "--reg needs a value")]:
        proc = subprocess.run(["bash", script, str(tmp_path), "x", *args], capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stderr.strip().endswith(message + (" (got 'dropout')" if args[1:] else "")), proc.stderr
