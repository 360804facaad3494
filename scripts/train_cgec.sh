#!/usr/bin/env bash
# Train a CGEC model with Token-Level Masking (or one of the paper's baselines) using fairseq-train.
#
#   scripts/train_cgec.sh DATA_BIN SAVE_DIR [--reg tlm|none|attn-dropout|drophead] [--dry-run] [fairseq-train args...]
#
# --reg picks the regularizer, everything else about the recipe stays the same so runs compare:
#   tlm           --tlm-rate 0.1 --tlm-mode both   (default; the paper's method)
#   none          --tlm-rate 0                     (plain transformer)
#   attn-dropout  --tlm-rate 0 --attention-dropout 0.1
#   drophead      --tlm-rate 0 --drophead-rate 0.1
# Any further arguments are appended to the fairseq-train command and so override the defaults
# below (argparse keeps the last value), e.g. `--max-update 5 --cpu` for a smoke test.
# --fp16 is added when torch sees a GPU (USE_FP16=auto, the default; 1 forces it, 0 turns it off).
# --dry-run prints the command instead of running it.
# Environment: PYTHON (interpreter; default: the one beside fairseq-train), MAX_TOKENS (default 8192), MAX_EPOCH
# (default 60), SEED (default 1).
set -euo pipefail

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; }
die() { echo "train_cgec.sh: error: $*" >&2; exit 2; }

[[ $# -ge 2 ]] || { usage; die "DATA_BIN and SAVE_DIR are required"; }
DATA_BIN=$1
SAVE_DIR=$2
shift 2
[[ -f "$DATA_BIN/dict.src.txt" && -f "$DATA_BIN/train.src-tgt.src.idx" ]] \
  || die "$DATA_BIN is not a binarized CGEC data-bin (run python -m preprocess.cgec first)"

REG=tlm
DRY_RUN=0
PASS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reg) [[ $# -ge 2 ]] || die "--reg needs a value"; REG=$2; shift 2 ;;
    --reg=*) REG=${1#--reg=}; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    *) PASS+=("$1"); shift ;;
  esac
done

case "$REG" in
  tlm) REG_ARGS=(--tlm-rate 0.1 --tlm-mode both) ;;
  none) REG_ARGS=(--tlm-rate 0) ;;
  attn-dropout) REG_ARGS=(--tlm-rate 0 --attention-dropout 0.1) ;;
  drophead) REG_ARGS=(--tlm-rate 0 --drophead-rate 0.1) ;;
  *) die "--reg must be one of tlm, none, attn-dropout, drophead (got '$REG')" ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${PYTHON:-}" ]] && command -v fairseq-train >/dev/null 2>&1; then
  TRAIN=(fairseq-train)
  PYTHON=$(dirname "$(command -v fairseq-train)")/python
  [[ -x "$PYTHON" ]] || PYTHON=python3
else
  PYTHON=${PYTHON:-python3}
  TRAIN=("$PYTHON" -m fairseq_cli.train)
fi

FP16=()
case "${USE_FP16:-auto}" in
  1) FP16=(--fp16) ;;
  0) ;;
  auto) if [[ "$("$PYTHON" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null)" == "True" ]]; then FP16=(--fp16); fi ;;
  *) die "USE_FP16 must be auto, 0 or 1 (got '$USE_FP16')" ;;
esac

CMD=("${TRAIN[@]}" "$DATA_BIN"
  --user-dir "$ROOT/tlm_fairseq"
  --arch tlm_transformer_cgec --share-all-embeddings
  --source-lang src --target-lang tgt
  "${REG_ARGS[@]}"
  --dropout 0.3
  --criterion label_smoothed_cross_entropy --label-smoothing 0.1
  --optimizer adam --adam-betas '(0.9,0.98)' --clip-norm 1.0
  --lr 5e-4 --lr-scheduler inverse_sqrt --warmup-updates 4000 --warmup-init-lr 1e-7
  --max-tokens "${MAX_TOKENS:-8192}" --max-epoch "${MAX_EPOCH:-60}"
  --seed "${SEED:-1}"
  --save-dir "$SAVE_DIR" --no-epoch-checkpoints
  --best-checkpoint-metric loss
  "${FP16[@]}"
  "${PASS[@]}")

if [[ $DRY_RUN == 1 ]]; then
  printf '%q ' "${CMD[@]}"
  echo
  exit 0
fi
mkdir -p "$SAVE_DIR"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec "${CMD[@]}"
