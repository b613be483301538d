#!/usr/bin/env bash
# The burst kit: train two or three recipe arms side by side on a lent GPU for a few minutes,
# and bring back each arm's generator and discriminator (fp16) and its in-loop validation.
#
# Here, once per cache:   python -m release.pack --cache ~/.cache/sketchface/data/faces256-aligned-hed --out .pack
# Then with the device tool: run(command="bash train/device_run.sh", carry=[".pack"], timeout_s=600)
# A second call on the still-warm machine with RESUME=1 continues the same runs.
#
# On the device: unpack the faces, run `train.arms` (ARMS, the arms file; ONLY, which arms,
# by default the three the CPU study left for GPU scale, see docs/training-log.md; ONLY= for
# all of them; BASE, the recipe they build on) for $MINUTES from $INIT (a weights file, or a folder of
# ARM.safetensors from an earlier burst, with ARM.disc.safetensors beside them, so the
# adversarial game goes on where it stopped), then leave in $OUT: ARM.safetensors (fp16) and
# ARM.disc.safetensors per arm, validation.jsonl (every arm's in-loop validation, with its
# name) and arms.md (img/s and the last validation per arm): 8 files for three arms, the
# device's limit. The log is the command's output. Extra arguments go to train.arms (e.g.
# --set key=value).
# Needs only PyTorch, OpenCV, NumPy and safetensors there. Tested on the CPU by
# tests/test_release_pack.py with PYTHON, a CPU base recipe and a tiny model.
set -euo pipefail
export PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
MINUTES=${MINUTES:-7}
OUT=${OUT:-/tmp/sketchface-device-out}
WORK=${WORK:-/tmp/sketchface-device}
INIT=${INIT:-inpaint/checkpoints/default.safetensors}
ARMS=${ARMS:-train/recipes/arms/ink.toml}
BASE=${BASE:-sharp-gpu}
PACK=${PACK:-.pack}
ONLY=${ONLY-k-sharp-structure,l-structure-strong-adversarial,o-colour-structure-adversarial}
cd "$(dirname "$0")/.."
if [ "${RESUME:-0}" != 1 ]; then rm -rf "$WORK"; fi
mkdir -p "$WORK" "$OUT"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
[ -f "$WORK/cache/meta.json" ] || "$PYTHON" -m release.pack --unpack "$PACK" --out "$WORK/cache"
disc_args=()
[ -d "$INIT" ] && disc_args=(--init-disc "$INIT")
"$PYTHON" -m train.arms "$ARMS" --base "$BASE" --data "$WORK/cache" --out "$WORK/runs" --init "$INIT" \
  "${disc_args[@]}" --vgg "$PACK/vgg.safetensors" --minutes "$MINUTES" --images "${IMAGES:-100000000}" \
  ${ONLY:+--only "$ONLY"} --report 60 "$@" 2>&1 | tail -n 60
: > "$OUT/validation.jsonl"
for run in "$WORK"/runs/*/; do
  arm=$(basename "$run")
  [ -f "$run/last.pt" ] || continue
  "$PYTHON" -m release.export "$run" --out "$OUT/$arm.safetensors" --dtype float16 > /dev/null
  "$PYTHON" -m release.export "$run" --discriminator --out "$OUT/$arm.disc.safetensors" > /dev/null || true
  [ -f "$run/validation.jsonl" ] && sed "s/^{/{\"arm\": \"$arm\", /" "$run/validation.jsonl" >> "$OUT/validation.jsonl"
  rm -f "$OUT/$arm.json"  # its record is also in the weights' header; $OUT takes 8 files
done
cp "$WORK/runs/arms.md" "$OUT/" 2>/dev/null || true
ls -la "$OUT"
