#!/usr/bin/env bash
# Rotowire with TLM end to end: preprocess the JSON, fairseq-train tlm_transformer_rotowire,
# generate the test summaries and score them (BLEU --tokenize none and 13a, content statistics).
#
# Usage: scripts/train_rotowire.sh ROTOWIRE_JSON_DIR [WORK_DIR]
#   ROTOWIRE_JSON_DIR holds train.json, valid.json and test.json (rotowire.tar.bz2, extracted).
#   No data at hand? python -m preprocess.rotowire.synth --out-dir synth/ writes look-alike games.
# Environment:
#   PYTHON      interpreter with the project's dependencies (default: python)
#   COPY        1: pointer-generator copying of record values (--copy, with its loss
#               label_smoothed_cross_entropy_copy); default 0
#   PREP_ARGS   extra tlm-prep-rotowire options, e.g. "--threshold-tgt 5" (used only when WORK_DIR/data-bin
#               does not exist yet)
#   TRAIN_ARGS  extra fairseq-train options, appended last so they override, e.g. "--cpu --max-update 50"
#   GEN_ARGS    extra fairseq-generate options, e.g. "--cpu --lenpen 1.2"
set -euo pipefail
cd "$(dirname "$0")/.."
IN=${1:?usage: scripts/train_rotowire.sh ROTOWIRE_JSON_DIR [WORK_DIR]}
WORK=${2:-work/rotowire}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
case ${COPY:-0} in
  1) MODEL_ARGS=(--copy --criterion label_smoothed_cross_entropy_copy) ;;
  0) MODEL_ARGS=(--criterion label_smoothed_cross_entropy) ;;
  *) echo "train_rotowire.sh: error: COPY must be 0 or 1, got '${COPY}'" >&2; exit 2 ;;
esac

# tlm-prep-rotowire creates data-bin whole (temporary name, renamed when complete): if it
# exists, it is complete.
if [ ! -d "$WORK/data-bin" ]; then
  # shellcheck disable=SC2086
  "$PY" -m preprocess.rotowire --input-dir "$IN" --dest "$WORK/data-bin" ${PREP_ARGS:-}
fi

# shellcheck disable=SC2086  # TRAIN_ARGS / GEN_ARGS are option lists
"$PY" -m fairseq_cli.train "$WORK/data-bin" \
  --user-dir tlm_fairseq --task data_to_text --arch tlm_transformer_rotowire \
  --tlm-rate 0.1 --tlm-mode both --tlm-apply-to both \
  --optimizer adam --adam-betas '(0.9, 0.98)' --clip-norm 1.0 \
  --lr 5e-4 --lr-scheduler inverse_sqrt --warmup-updates 2000 \
  "${MODEL_ARGS[@]}" --label-smoothing 0.1 \
  --max-tokens 8192 --max-epoch 100 --patience 10 \
  --save-dir "$WORK/checkpoints" --no-epoch-checkpoints \
  --log-format simple --log-interval 50 --skip-invalid-size-inputs-valid-test \
  ${TRAIN_ARGS:-}

# shellcheck disable=SC2086
"$PY" scripts/eval_rotowire.py --data "$WORK/data-bin" --split test \
  --path "$WORK/checkpoints/checkpoint_best.pt" --beam 5 --max-len-b 1000 \
  --results-path "$WORK/generate" --output "$WORK/test.hyp.txt" --json "$WORK/test.scores.json" --quiet \
  -- ${GEN_ARGS:-}
