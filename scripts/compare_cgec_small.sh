#!/usr/bin/env bash
# The regularizer comparison on a small real CGEC split that a 2-core CPU machine finishes in about an hour.
#
#   scripts/compare_cgec_small.sh [OUT_DIR]        (default: docs/comparison-cgec-small, runs under work/)
#
# Data (from ../shared/data/cgec): train on MuCGEC dev (all references) plus the first 1600 NLPCC 2018
# test sentences (targets rebuilt from every annotator's edits); hold out the last 400 NLPCC 2018 test
# sentences with their character-level gold edits as the test set; 300 training sources are validation.
# Model: tlm_transformer_cgec shrunk to 2+2 layers of width 128 for CPU. Each configuration
# (none, attention dropout, DropHead, TLM siblings/self/both) x 2 seeds is trained for MAX_UPDATE updates;
# the best checkpoint is scored on the held-out 400 sentences (greedy, char-level M2 F0.5).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/data/cgec}
OUT=${1:-$ROOT/docs/comparison-cgec-small}
WORK=${WORK:-$ROOT/work/comparison-cgec-small}
PYTHON=${PYTHON:-python3}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # one thread per run: oversubscribed threads on a busy 2-core box are far slower
MAX_UPDATE=${MAX_UPDATE:-800}
SEEDS=${SEEDS:-"1 2"}
[[ -d "$SHARED" ]] || { echo "compare_cgec_small.sh: $SHARED is absent (real data beside the project)" >&2; exit 2; }
mkdir -p "$WORK" "$OUT"

# Split the NLPCC 2018 char-level M2 file into blocks 1-1600 (train) and 1601-2000 (test).
awk -v RS= -v ORS='\n\n' 'NR <= 1600' "$SHARED/nlpcc18_test.char.m2" > "$WORK/nlpcc_train.char.m2"
awk -v RS= -v ORS='\n\n' 'NR > 1600' "$SHARED/nlpcc18_test.char.m2" > "$WORK/nlpcc_heldout.char.m2"

if [[ ! -f "$WORK/data/data-bin/dict.src.txt" ]]; then
  "$PYTHON" -m preprocess.cgec --train-mucgec "$SHARED/mucgec_dev.txt" --train-m2 "$WORK/nlpcc_train.char.m2" \
    --m2-annotator all --keep-correct --valid-size 300 --test-m2 "$WORK/nlpcc_heldout.char.m2" --drop-test-overlap \
    --bpe char --max-len 128 --workers 2 --out "$WORK/data" --force
fi

# shellcheck disable=SC2086
"$PYTHON" "$ROOT/scripts/compare_regularizers.py" "$WORK/data/data-bin" --out "$WORK/runs" --seeds $SEEDS \
  --test-name "test F0.5" \
  --test-cmd "$PYTHON $ROOT/scripts/eval_cgec.py --data-bin $WORK/data/data-bin --checkpoint {checkpoint} --split test --gold-m2 $WORK/nlpcc_heldout.char.m2 --output {run_dir}/hyp.txt --beam 1 --max-len-a 1.2 --max-len-b 10 --batch-size 64 --cpu --m2-oversized unmerged | grep '^F_0.5'" \
  -- --arch tlm_transformer_cgec --encoder-layers 2 --decoder-layers 2 --encoder-embed-dim 128 --decoder-embed-dim 128 \
  --encoder-ffn-embed-dim 512 --decoder-ffn-embed-dim 512 --encoder-attention-heads 4 --decoder-attention-heads 4 \
  --dropout 0.3 --criterion label_smoothed_cross_entropy --label-smoothing 0.1 --optimizer adam --adam-betas '(0.9,0.98)' \
  --lr 1e-3 --lr-scheduler inverse_sqrt --warmup-updates 100 --max-tokens 2048 --max-update "$MAX_UPDATE" \
  --validate-interval-updates 100 --save-interval-updates 100 --log-interval 20 --keep-interval-updates 1 --cpu --num-workers 0

cp "$WORK/runs/runs.csv" "$WORK/runs/table.md" "$WORK/runs/valid_loss.png" "$OUT/"
echo "results copied to $OUT"
