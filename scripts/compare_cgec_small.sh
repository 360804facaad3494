#!/usr/bin/env bash
# Study B: the regularizer comparison on the small real CGEC split of docs/comparison-cgec-small,
# with a budget that lets the model learn to copy, early stopping, and the methods at study A's
# chosen settings x 3 seeds. Resumable: rerun the same command in a later session and it continues
# (finished runs live in OUT/runs and are committed; nothing else is needed but the data).
#
#   scripts/compare_cgec_small.sh [OUT_DIR]     (default: docs/evidence/B-cgec-small; data under work/)
#
# Data (from ../shared/data/cgec): train on MuCGEC dev (all references) plus the first 1600 NLPCC 2018
# test sentences (targets rebuilt from every annotator's edits), plus the 6000 MuCGEC test sources as
# copy pairs (source = target: unlabelled learner text that teaches the model to copy its input; the
# first recipe without them, docs/evidence/B-cgec-small-recipe1, hit the 8000-update cap at char BLEU
# 59.5 against the input's 88.4: it had not learned to copy); training pairs whose source is a test
# source are dropped. Hold out the last 400 NLPCC 2018 test sentences with their character-level gold
# edits as the test set; 300 training sources are validation.
# Model: tlm_transformer_cgec (shared embeddings) at 2+2 layers, width 128, FFN 512, 4 heads, dropout 0.1,
# label smoothing 0.1, Adam lr 1e-3 inverse-sqrt (warm-up 400), 2048 tokens per batch; validation every
# 250 updates, early stopping after 5 validations without improvement, cap 8000 updates. 800 updates (the
# earlier comparison) left the model below copying its input; the cap is ten times that.
# Scores: char-level M2 F0.5 (with P/R), exact match and char BLEU against annotator 0; the tables start
# with the "source copy" row (the input unchanged: F0.5 0 by definition, its exact match and BLEU), the
# bar a model that has learned to copy must clear on BLEU and exact match.
#
# Environment: TLM, DROPHEAD, ATTN (chosen rates; default: study A's choice, read from its tables),
# SEEDS (default "1 2 3"), JOBS (default 1), DEVICE (cpu or cuda), MAX_UPDATE (default 8000).
# TUNE=1 is study C's protocol on the same data and model: every method's rate tuned on validation
# with seed 1 (rates 0.05/0.1/0.2, plus none), then SEEDS (default "2 3 4 5 6") for each chosen
# setting and the TLM mode ablation; default OUT docs/evidence/C-cgec-small-$DEVICE, e.g.
#   TUNE=1 DEVICE=cuda JOBS=16 bash scripts/compare_cgec_small.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SHARED=${SHARED:-$ROOT/../shared/data/cgec}
TUNE=${TUNE:-0}
DEVICE=${DEVICE:-cpu}
if [[ $TUNE == 1 ]]; then DEFAULT_OUT=docs/evidence/C-cgec-small-$DEVICE; DEFAULT_SEEDS="2 3 4 5 6"
else DEFAULT_OUT=docs/evidence/B-cgec-small; DEFAULT_SEEDS="1 2 3"; fi
OUT=${1:-$DEFAULT_OUT}
WORK=${WORK:-work/evidence-B2}
PYTHON=${PYTHON:-python3}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # one thread per run: oversubscribed threads on a busy box are far slower
MAX_UPDATE=${MAX_UPDATE:-8000}
SEEDS=${SEEDS:-$DEFAULT_SEEDS}
JOBS=${JOBS:-1}
[[ -d "$SHARED" ]] || { echo "compare_cgec_small.sh: $SHARED is absent (real data beside the project)" >&2; exit 2; }

# Study A's chosen rate of a method, from the "chosen" column of its tuning table.
chosen_in_a() {
  local table=docs/evidence/A-synthetic/tables.md
  [[ -f $table ]] || { echo "compare_cgec_small.sh: $table is absent; set TLM, DROPHEAD and ATTN" >&2; exit 2; }
  local rate
  rate=$(awk -F' [|] ' -v m="$1" '$1 ~ "^[|] "m"-" && $NF ~ /^yes/ {n=split($1, a, "-"); print a[n]}' "$table")
  [[ -n $rate ]] || { echo "compare_cgec_small.sh: no chosen $1 setting in $table yet; set it explicitly" >&2; exit 2; }
  echo "$rate"
}
if [[ $TUNE == 1 ]]; then
  CHOSEN=()
  ABLATION=()  # the TLM mode ablation over the test seeds
  TITLE="Study C: small real CGEC split, every method tuned ($DEVICE)"
else
  TLM=${TLM:-$(chosen_in_a tlm-both)}
  DROPHEAD=${DROPHEAD:-$(chosen_in_a drophead)}
  ATTN=${ATTN:-$(chosen_in_a attention-dropout)}
  CHOSEN=(--chosen tlm="$TLM" drophead="$DROPHEAD" attention-dropout="$ATTN")
  ABLATION=(--ablation-seeds)  # none
  TITLE="Study B: small real CGEC split"
fi
mkdir -p "$WORK"

# Split the NLPCC 2018 char-level M2 file into blocks 1-1600 (train) and 1601-2000 (test).
awk -v RS= -v ORS='\n\n' 'NR <= 1600' "$SHARED/nlpcc18_test.char.m2" > "$WORK/nlpcc_train.char.m2"
awk -v RS= -v ORS='\n\n' 'NR > 1600' "$SHARED/nlpcc18_test.char.m2" > "$WORK/nlpcc_heldout.char.m2"

if [[ ! -f "$WORK/data/data-bin/dict.src.txt" ]]; then
  "$PYTHON" -m preprocess.cgec --train-mucgec "$SHARED/mucgec_dev.txt" --train-m2 "$WORK/nlpcc_train.char.m2" \
    --train-parallel "$SHARED/mucgec_test_src.txt" "$SHARED/mucgec_test_src.txt" \
    --m2-annotator all --keep-correct --valid-size 300 --test-m2 "$WORK/nlpcc_heldout.char.m2" --drop-test-overlap \
    --bpe char --max-len 128 --workers 1 --out "$WORK/data" --force
fi

# shellcheck disable=SC2086
"$PYTHON" scripts/compare_regularizers.py "$WORK/data/data-bin" --out "$OUT" --title "$TITLE" \
  --post cgec --test-m2 "$WORK/nlpcc_heldout.char.m2" --test-ref "$WORK/data/text/test.tgt" \
  "${CHOSEN[@]}" --test-seeds $SEEDS "${ABLATION[@]}" \
  --max-update "$MAX_UPDATE" --patience 5 --valid-every 250 --jobs "$JOBS" --device "$DEVICE" \
  --generate-args "--beam 1 --max-len-a 1.2 --max-len-b 10 --batch-size 64" \
  -- --arch tlm_transformer_cgec --encoder-layers 2 --decoder-layers 2 --encoder-embed-dim 128 --decoder-embed-dim 128 \
  --encoder-ffn-embed-dim 512 --decoder-ffn-embed-dim 512 --encoder-attention-heads 4 --decoder-attention-heads 4 \
  --dropout 0.1 --criterion label_smoothed_cross_entropy --label-smoothing 0.1 --optimizer adam --adam-betas '(0.9,0.98)' \
  --lr 1e-3 --lr-scheduler inverse_sqrt --warmup-updates 400 --max-tokens 2048 --log-interval 50 --num-workers 0
