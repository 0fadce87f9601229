#!/usr/bin/env bash
# Offline: sample DPO pairs from the tiny model, train DPO on them, then evaluate base and trained model on a local
# general_mcq set and on our own jsonl, with one comparison table. Run from anywhere; writes under output/eval_demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
SWIFT=${SWIFT:-.venv/bin/swift}
OUT=output/eval_demo
rm -rf "$OUT" && mkdir -p "$OUT/mcq"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = [{'query': f'What is {a}+{b}?', 'solution': str(a + b), 'response': str(a + b)} for a in range(4) for b in range(4)]
open(f'{out}/math.jsonl', 'w').write(''.join(json.dumps(r) + '\n' for r in rows))
mcq = [{'question': f'{a}+{b}=?', 'A': str(a + b), 'B': str(a + b + 1), 'C': str(a * b + 7), 'D': '0', 'answer': 'A'}
       for a in range(1, 4) for b in range(1, 4)]
for split in ('dev', 'val'):
    open(f'{out}/mcq/default_{split}.jsonl', 'w').write(''.join(json.dumps(r) + '\n' for r in mcq))
open(f'{out}/length_orm.py', 'w').write(
    'from swift.plugin import orms\n\n\ndef length(completions, **kw):\n    return [len(c) / 100 for c in completions]\n\n\n'
    "orms['length'] = length\n")
PY
$SWIFT sample --model swift/tiny-qwen2 --dataset "$OUT/math.jsonl" --orm_model length \
    --external_plugins "$OUT/length_orm.py" --num_return_sequences 4 --max_new_tokens 16 --n_best_to_keep 1 \
    --output_rejected true --output_dir "$OUT" --output_file pairs.jsonl
$SWIFT rlhf --rlhf_type dpo --model swift/tiny-qwen2 --dataset "$OUT/pairs.jsonl" --output_dir "$OUT/dpo" \
    --add_version false --max_steps 4 --save_steps 2 --split_dataset_ratio 0 --report_to none
$SWIFT eval --model swift/tiny-qwen2 --eval_checkpoints "$OUT/dpo" --eval_dataset general_mcq "$OUT/math.jsonl" \
    --eval_dataset_args "{\"general_mcq\": {\"local_path\": \"$OUT/mcq\", \"subset_list\": [\"default\"]}}" \
    --max_new_tokens 8 --eval_output_dir "$OUT/eval"
