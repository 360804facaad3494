"""Rebuild the embedded CGEC sample from the real files in ../shared/data/cgec (run from the project root).

    python tests/data/cgec/make_sample.py ../shared/data/cgec tests/data/cgec
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from preprocess.cgec.m2 import read_m2, targets  # noqa: E402

TEST_SENTENCES = 60  # NLPCC18 test blocks 1-60 become the sample test set
NLPCC_FORMAT = range(1000, 1200)  # NLPCC18 test blocks 1001-1200 become NLPCC-format training data
MUCGEC_LINES = 200  # MuCGEC dev lines 1-200


def main(src_dir: Path, out_dir: Path) -> None:
    for level in ("word", "char"):
        blocks = (src_dir / f"nlpcc18_test.{level}.m2").read_text(encoding="utf-8").strip().split("\n\n")
        (out_dir / f"nlpcc18_test_sample.{level}.m2").write_text("\n\n".join(blocks[:TEST_SENTENCES]) + "\n\n", encoding="utf-8")
    sents = list(read_m2(src_dir / "nlpcc18_test.word.m2"))
    with open(out_dir / "nlpcc2018_format_sample.txt", "w", encoding="utf-8") as fh:
        for i in NLPCC_FORMAT:
            src = "".join(sents[i].tokens)
            tgts = list(dict.fromkeys("".join(t) for t in targets(sents[i], None)))
            tgts = [t for t in tgts if t != src]
            fh.write("\t".join([str(i + 1), str(len(tgts)), src, *tgts]) + "\n")
    lines = (src_dir / "mucgec_dev.txt").read_text(encoding="utf-8").splitlines()[:MUCGEC_LINES]
    (out_dir / "mucgec_dev_sample.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
