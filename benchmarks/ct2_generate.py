"""CTranslate2's side of ``bench_generate.py --peer ctranslate2``: one process, one run, as a deployer writes it.

Reads space-separated source tokens (one sentence per line), translates them with a converted
fairseq model and writes a JSON report: start-up (interpreter start to model loaded, imports
included), generation seconds and process CPU seconds (``translate_batch`` alone), generated tokens counted as fairseq counts
them (``</s>`` included) and the best hypothesis of each sentence. Only the standard library and
ctranslate2 are imported, so the start-up is CTranslate2's own.

    python benchmarks/ct2_generate.py --model CT2_DIR --input test.src --beam 5 --threads 1 --out run.json
"""
from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before the imports it measures
import json  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="ct2-fairseq-converter output")
    parser.add_argument("--input", required=True, help="space-separated source tokens, one sentence per line")
    parser.add_argument("--out", required=True, help="JSON report")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len-b", type=int, default=200, help="fairseq's --max-len-b (output tokens, </s> excluded)")
    parser.add_argument("--compute-type", default="default", help="CTranslate2 compute type (default: the model's)")
    args = parser.parse_args(argv)

    import ctranslate2

    translator = ctranslate2.Translator(args.model, device="cpu", compute_type=args.compute_type,
                                        inter_threads=1, intra_threads=args.threads)
    loaded = time.perf_counter()
    with open(args.input, encoding="utf-8") as handle:
        sources = [line.rstrip("\n").split() for line in handle]
    start, cpu = time.perf_counter(), time.process_time()
    results = translator.translate_batch(sources, beam_size=args.beam, max_batch_size=args.batch_size,
                                         batch_type="examples", max_decoding_length=args.max_len_b + 1,
                                         length_penalty=1.0, return_scores=True) if sources else []
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    outputs = [" ".join(r.hypotheses[0]) for r in results]
    tokens = sum(len(r.hypotheses[0]) + 1 for r in results)  # + </s>, as fairseq and tlm-generate count
    report = {"startup": loaded - STARTED, "seconds": seconds, "cpu_seconds": cpu_seconds, "sentences": len(sources), "tokens": tokens,
              "outputs": outputs, "scores": [r.scores[0] for r in results]}
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
