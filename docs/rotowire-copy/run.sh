#!/usr/bin/env bash
# With vs without --copy on generated Rotowire games whose target vocabulary keeps only frequent
# tokens (--threshold-tgt 500: 99% of the name types and 85% of the number types of the training
# summaries fall below it), same data, budget and seeds. Each run is scripts/train_rotowire.sh
# (preprocess, fairseq-train, fairseq-generate beam 5, scripts/eval_rotowire.py).
#
# Usage: bash docs/rotowire-copy/run.sh [WORK_DIR]      (default work/rotowire-copy; resumable:
#        a run whose test.scores.json exists is skipped)   SEEDS="1 2" to choose the seeds.
# Then:  python docs/rotowire-copy/make_table.py WORK_DIR > docs/rotowire-copy/results.md
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-work/rotowire-copy}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=1 PYTHON=$PY

if [ ! -f "$WORK/json/test.json" ]; then
  "$PY" -m preprocess.rotowire.synth --out-dir "$WORK/json" --train 600 --valid 40 --test 100 --seed 0 --no-progress
fi
if [ ! -d "$WORK/data-bin" ]; then
  "$PY" -m preprocess.rotowire --input-dir "$WORK/json" --dest "$WORK/data-bin" --threshold-tgt 500 --no-progress
fi

MODEL="--encoder-layers 2 --decoder-layers 2 --encoder-embed-dim 128 --decoder-embed-dim 128
  --encoder-ffn-embed-dim 256 --decoder-ffn-embed-dim 256 --encoder-attention-heads 4 --decoder-attention-heads 4"
BUDGET="--dropout 0.1 --lr 1e-3 --warmup-updates 100 --max-tokens 4096 --max-update 400 --cpu --num-workers 0"
for seed in ${SEEDS:-1}; do
  for copy in 0 1; do
    run="$WORK/copy$copy-seed$seed"
    [ -f "$run/test.scores.json" ] && continue
    mkdir -p "$run"
    ln -sfn "$(realpath "$WORK/data-bin")" "$run/data-bin"
    start=$(date +%s)
    COPY=$copy TRAIN_ARGS="$MODEL $BUDGET --seed $seed" GEN_ARGS="--cpu" \
      bash scripts/train_rotowire.sh "$WORK/json" "$run" > "$run/log.txt" 2>&1
    echo "$(( $(date +%s) - start ))" > "$run/seconds.txt"
  done
done

# Score every run's saved fairseq-generate log again with the current scorer (cheap; no generation).
for run in "$WORK"/copy*-seed*/; do
  "$PY" scripts/eval_rotowire.py --data "$WORK/data-bin" --split test --quiet \
    --generate-output "$run/generate/generate-test.txt" --json "$run/test.scores.json" > "$run/scores.txt"
done
