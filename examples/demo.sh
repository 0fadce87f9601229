#!/usr/bin/env bash
# The offline demo: fine-tune the built-in tiny model on the built-in self-cognition data, then ask it who it is.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
SWIFT=.venv/bin/swift
OUT=output/demo
rm -rf "$OUT"
start=$(date +%s)
$SWIFT sft \
    --model swift/tiny-qwen2 \
    --dataset swift/self-cognition \
    --model_name 小黄 'Xiao Huang' \
    --model_author 魔搭 ModelScope \
    --train_type full \
    --learning_rate 3e-3 \
    --num_train_epochs 30 \
    --per_device_train_batch_size 8 \
    --split_dataset_ratio 0 \
    --save_strategy no \
    --logging_steps 20 \
    --report_to none \
    --add_version false \
    --output_dir "$OUT"
end=$(date +%s)
echo "== trained in $((end - start)) s; asking the model =="
.venv/bin/python examples/ask.py "$OUT" "who are you?" "你是谁？"
