#!/usr/bin/env bash
# The offline multimodal demo: fine-tune the built-in tiny vision-language model on the built-in drawn-shapes
# questions (swift/shapes-vqa), then show it shapes and ask what they are.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
SWIFT=${SWIFT:-.venv/bin/swift}
PYTHON=${PYTHON:-.venv/bin/python}
OUT=output/demo_vl
rm -rf "$OUT"
start=$(date +%s)
$SWIFT sft \
    --model swift/tiny-qwen2-vl \
    --dataset swift/shapes-vqa \
    --train_type full \
    --freeze_vit false \
    --freeze_aligner false \
    --learning_rate 2e-3 \
    --num_train_epochs 12 \
    --per_device_train_batch_size 8 \
    --split_dataset_ratio 0 \
    --save_strategy no \
    --logging_steps 25 \
    --report_to none \
    --add_version false \
    --output_dir "$OUT"
end=$(date +%s)
echo "== trained in $((end - start)) s; showing it shapes =="
$PYTHON examples/ask_vl.py "$OUT" red:circle blue:square green:triangle yellow:diamond
