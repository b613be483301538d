#!/usr/bin/env bash
# Train on a lent GPU for a few minutes and bring the weights back (issue 20, item 6).
#
# Here, once per cache:   python -m train.pack --cache ~/.cache/sketchface/data/faces256-aligned-hed --out .pack
# Then with the device tool: run(command="bash train/device_run.sh", carry=[".pack"], timeout_s=600)
#
# On the device: unpack the faces, fine-tune the shipped weights with the sharp-gpu recipe
# for $MINUTES (default 7), export fp16 weights, and leave in $OUT: sharp.safetensors,
# sharp.json, validation.jsonl (the in-loop measures), samples.png and train.log.
# Extra arguments go to train.fit (recipe overrides, --steps). Tested on the CPU by
# tests/test_train_pack.py with PYTHON, RECIPE and a tiny model.
set -euo pipefail
export PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
MINUTES=${MINUTES:-7}
OUT=${OUT:-/tmp/sketchface-device-out}
WORK=${WORK:-/tmp/sketchface-device}
INIT=${INIT:-checkpoints/default.safetensors}
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
cd "$(dirname "$0")/.."
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PYTHON" -m train.pack --unpack "${PACK:-.pack}" --out "$WORK/cache"
"$PYTHON" -m train.fit --data "$WORK/cache" --recipe "${RECIPE:-sharp-gpu}" --out "$WORK/run" --init "$INIT" \
  --vgg "${PACK:-.pack}/vgg.safetensors" --minutes "$MINUTES" "$@" > "$OUT/train.log" 2>&1 \
  || { tail -n 40 "$OUT/train.log"; exit 1; }
grep -v "it/s\]\|step/s\]" "$OUT/train.log" | tail -n 15 || true
"$PYTHON" -m train.export "$WORK/run" --out "$OUT/sharp.safetensors" --dtype float16
cp "$WORK/run/validation.jsonl" "$OUT/" 2>/dev/null || true
last=$(ls "$WORK/run/samples/"*.png 2>/dev/null | tail -n 1 || true)
[ -n "$last" ] && cp "$last" "$OUT/samples.png"
ls -la "$OUT"
