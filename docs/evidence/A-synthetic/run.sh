#!/usr/bin/env bash
# Study A: TLM vs DropHead vs attention dropout on a synthetic GEC task with known ground truth (CPU).
#
#   bash docs/evidence/A-synthetic/run.sh          (from anywhere; resumes: finished runs are kept)
#
# Data: python -m preprocess.cgec.synth (same seed, same bytes), binarized under work/ (ignored by git).
# Model: tlm_transformer 2+2 layers, width 64, FFN 256, 4 heads, shared embeddings, no dropout besides
# the regularizer under study, label smoothing 0.1, Adam lr 2e-3 inverse-sqrt (warm-up 100), 1024 tokens
# per batch; validation every 100 updates, early stopping after 4 validations without improvement, cap
# 4000 updates. One thread per run (JOBS=1 by default: the machine's other core is busy).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-1}
DEVICE=${DEVICE:-cpu}
DATA=work/evidence-A
export OMP_NUM_THREADS=1

if [[ ! -f $DATA/bin/dict.src.txt ]]; then
  "$PYTHON" -m preprocess.cgec.synth --out $DATA/raw --symbols 500 --degree 4 --train 1000 --valid 400 --test 400 \
    --min-len 6 --max-len 16 --seed 0 --force
  "$PYTHON" -m fairseq_cli.preprocess --source-lang src --target-lang tgt --trainpref $DATA/raw/train \
    --validpref $DATA/raw/valid --testpref $DATA/raw/test --destdir $DATA/bin --joined-dictionary --workers 1
fi

"$PYTHON" scripts/compare_regularizers.py $DATA/bin --out docs/evidence/A-synthetic --title "Study A: synthetic GEC task" \
  --test-m2 $DATA/raw/test.m2 --test-ref $DATA/raw/test.tgt --valid-m2 $DATA/raw/valid.m2 --valid-ref $DATA/raw/valid.tgt \
  --max-update 4000 --patience 4 --valid-every 100 --jobs "$JOBS" --device "$DEVICE" \
  -- --arch tlm_transformer --encoder-layers 2 --decoder-layers 2 --encoder-embed-dim 64 --decoder-embed-dim 64 \
  --encoder-ffn-embed-dim 256 --decoder-ffn-embed-dim 256 --encoder-attention-heads 4 --decoder-attention-heads 4 \
  --share-all-embeddings --dropout 0 --activation-dropout 0 --criterion label_smoothed_cross_entropy \
  --label-smoothing 0.1 --optimizer adam --adam-betas '(0.9,0.98)' --lr 2e-3 --lr-scheduler inverse_sqrt \
  --warmup-updates 100 --max-tokens 1024 --log-interval 100 --num-workers 0
