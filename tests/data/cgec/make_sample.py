"""Rebuild the embedded CGEC sample from the real files in ../shared/data/cgec (run from the project root).

    python tests/data/cgec/make_sample.py ../shared/data/cgec tests/data/cgec
"""
from __future__ import annotations

import sys
from pathlib import Path

from preprocess.cgec.m2 import read_m2, targets
from tlm_fairseq.files import iter_lines, write_text_atomic
from tlm_fairseq.scoring.m2 import format_blocks

TEST_SENTENCES = 60  # NLPCC18 test blocks 1-60 become the sample test set
NLPCC_FORMAT = range(1000, 1200)  # NLPCC18 test blocks 1001-1200 become NLPCC-format training data
MUCGEC_LINES = 200  # MuCGEC dev lines 1-200


def main(src_dir: Path, out_dir: Path) -> None:
    for level in ("word", "char"):
        blocks = list(read_m2(src_dir / f"nlpcc18_test.{level}.m2"))
        write_text_atomic(out_dir / f"nlpcc18_test_sample.{level}.m2", format_blocks(blocks[:TEST_SENTENCES]))
    sents = list(read_m2(src_dir / "nlpcc18_test.word.m2"))
    rows = []
    for i in NLPCC_FORMAT:
        src = "".join(sents[i].tokens)
        tgts = [t for t in dict.fromkeys("".join(t) for t in targets(sents[i], None)) if t != src]
        rows.append("\t".join([str(i + 1), str(len(tgts)), src, *tgts]) + "\n")
    write_text_atomic(out_dir / "nlpcc2018_format_sample.txt", "".join(rows))
    lines = [line for _, line in iter_lines(src_dir / "mucgec_dev.txt")][:MUCGEC_LINES]
    write_text_atomic(out_dir / "mucgec_dev_sample.txt", "".join(line + "\n" for line in lines))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
