"""`swift infer --model <merged>` answers exactly as `swift infer --adapters <ckpt>`
(greedy tokens and their log-probabilities)."""
import json

from swift.pipelines.export import export_main
from swift.pipelines.infer import infer_main


def _answers(argv, result_path):
    infer_main(argv + ['--max_new_tokens', '12', '--temperature', '0', '--logprobs', 'true', '--top_logprobs', '3',
                       '--result_path', str(result_path)])
    with open(result_path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def test_infer_merged_equals_infer_adapter(ckpt, chat_jsonl, tmp_path):
    merged = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(merged)])
    data = ['--val_dataset', chat_jsonl]
    with_adapter = _answers(['--adapters', ckpt] + data, tmp_path / 'adapter.jsonl')
    with_merged = _answers(['--model', str(merged)] + data, tmp_path / 'merged.jsonl')
    assert len(with_merged) == len(with_adapter) == 4
    for merged_row, adapter_row in zip(with_merged, with_adapter):
        assert merged_row['response'] == adapter_row['response']
        # the tiny model may stop at once: compare the scored tokens too, not only the (possibly empty) text
        for a, b in zip(merged_row['logprobs']['content'], adapter_row['logprobs']['content'], strict=True):
            assert [t['token'] for t in a['top_logprobs']] == [t['token'] for t in b['top_logprobs']]
            assert abs(a['logprob'] - b['logprob']) < 1e-4
