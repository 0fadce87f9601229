"""`swift sample` on the tiny model: ORM scoring, rejected responses -> DPO, cache files, shards, resume, PRM,
MCTS."""
import json
import os

from swift.pipelines.sample import sample_main
from swift.sampling import row_id, shard_rows
from .conftest import read_jsonl, sample_argv


def test_sample_with_orm_keeps_n_best(tmp_path, math_jsonl, length_plugin):
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'a.jsonl', '--orm_model', 'length', '--external_plugins',
                                     length_plugin, '--n_best_to_keep', '2'))
    rows = read_jsonl(result['output_file'])
    assert result['rows'] == 5 and result['samples'] == 15 and result['num_rows'] == len(rows)
    by_prompt = {}
    for r in rows:
        assert r['messages'][-1]['role'] == 'assistant' and r['solution']
        assert abs(r['orm_score'] - len(r['messages'][-1]['content']) / 100) < 1e-9
        by_prompt.setdefault(r['id'], []).append(r['score'])
    assert len(by_prompt) == 5 and all(1 <= len(s) <= 2 and s == sorted(s, reverse=True) for s in by_prompt.values())


def test_builtin_accuracy_orm_and_easy_filter(tmp_path, math_jsonl):
    """accuracy compares with `solution`; a query where every sample is right counts as easy and is dropped."""
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'acc.jsonl', '--orm_model', 'accuracy',
                                     '--easy_query_threshold', '0.0', '--n_best_to_keep', '1'))
    rows = read_jsonl(result['output_file'])
    assert all(r['orm_score'] == 0.0 for r in rows)  # the random tiny model cannot add
    assert result['filtered'] + len({r['id'] for r in rows}) == 5


def test_sample_to_dpo_round_trip(tmp_path, math_jsonl, length_plugin):
    from swift.pipelines.rlhf import rlhf_main
    from tests.rlhf.conftest import rlhf_argv
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'dpo.jsonl', '--orm_model', 'length',
                                     '--external_plugins', length_plugin, '--output_rejected', 'true',
                                     '--num_return_sequences', '4', '--temperature', '1.5'))
    rows = read_jsonl(result['output_file'])
    assert rows and all(r['rejected_response'] != r['messages'][-1]['content'] for r in rows)
    assert all(r['score'] > r['rejected_score'] for r in rows)
    trained = rlhf_main(rlhf_argv('dpo', result['output_file'], tmp_path / 'dpo'))
    losses = [row['loss'] for row in trained['log_history'] if 'loss' in row]
    assert len(losses) == 2 and all(loss == loss for loss in losses)
    assert os.path.isfile(os.path.join(trained['last_model_checkpoint'], 'adapter_model.safetensors'))


def test_sample_output_trains_sft(tmp_path, math_jsonl, length_plugin):
    from swift.pipelines.sft import sft_main
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'sft.jsonl', '--orm_model', 'length',
                                     '--external_plugins', length_plugin, '--n_best_to_keep', '1'))
    trained = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', result['output_file'], '--max_steps', '1',
                        '--output_dir', str(tmp_path / 'sft'), '--report_to', 'none', '--add_version', 'false',
                        '--split_dataset_ratio', '0', '--save_strategy', 'no'])
    assert [row['loss'] for row in trained['log_history'] if 'loss' in row]


def test_cache_files_two_step(tmp_path, math_jsonl, length_plugin):
    raw = sample_main(sample_argv(math_jsonl, tmp_path, 'raw.jsonl'))
    raw_rows = read_jsonl(raw['output_file'])
    assert len(raw_rows) == 15 and all('score' not in r for r in raw_rows)  # unscored: every sample is kept
    assert raw['kept'] == 15 and raw['filtered'] == 0
    scored = sample_main(['--dataset', math_jsonl, '--sampler_engine', 'no', '--cache_files', raw['output_file'],
                          '--orm_model', 'length', '--external_plugins', length_plugin, '--n_best_to_keep', '1',
                          '--output_dir', str(tmp_path), '--output_file', 'scored.jsonl'])
    rows = read_jsonl(scored['output_file'])
    assert len(rows) == 5 and scored['samples'] == 15
    for r in rows:
        mine = [c['messages'][-1]['content'] for c in raw_rows if c['id'] == r['id']]
        assert r['messages'][-1]['content'] == max(mine, key=len)


def test_data_range_shards_equal_full_run(tmp_path, math_jsonl):
    full = read_jsonl(sample_main(sample_argv(math_jsonl, tmp_path, 'full.jsonl',
                                              '--num_return_sequences', '1'))['output_file'])
    shards = []
    for i in range(2):
        shards += read_jsonl(sample_main(sample_argv(math_jsonl, tmp_path, f'shard{i}.jsonl', '--num_return_sequences',
                                                     '1', '--data_range', str(i), '2'))['output_file'])
    assert shards == full and len(shards) == 5  # each row has its own seed: the same samples in any shard
    assert [len(shard_rows(range(7), [i, 3])) for i in range(3)] == [3, 2, 2]
    assert sum((shard_rows(range(7), [i, 3]) for i in range(3)), []) == list(range(7))


def test_interrupted_run_resumes(tmp_path, math_jsonl, capsys):
    first = read_jsonl(sample_main(sample_argv(math_jsonl, tmp_path, 'first.jsonl'))['output_file'])
    done = [r for r in first if r['id'] == first[0]['id']]
    partial = tmp_path / 'resumed.jsonl.partial'  # what an interrupted run leaves behind
    partial.write_text(''.join(json.dumps(r) + '\n' for r in done) + '{"id": "cut sh')
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'resumed.jsonl'))
    assert result['skipped'] == 1 and result['samples'] == 12 and 'resuming: 1 prompts' in capsys.readouterr().out
    rows = read_jsonl(result['output_file'])
    assert len(rows) == 15 and rows[:3] == done and not partial.exists()


def test_prm_checkpoint_scores_and_threshold(tmp_path, math_jsonl):
    """--prm_model as a reward-model checkpoint (seq_cls, one label): scores in (0, 1); the threshold filters."""
    from swift.model import get_model_tokenizer
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2', 'float32', task_type='seq_cls', num_labels=1)
    rm = str(tmp_path / 'rm')
    model.save_pretrained(rm)
    tokenizer.save_pretrained(rm)
    kept = sample_main(sample_argv(math_jsonl, tmp_path, 'prm.jsonl', '--prm_model', rm, '--n_best_to_keep', '1'))
    rows = read_jsonl(kept['output_file'])
    assert len(rows) == 5 and all(0 < r['prm_score'] < 1 and r['score'] == r['prm_score'] for r in rows)
    dropped = sample_main(sample_argv(math_jsonl, tmp_path, 'prm_hi.jsonl', '--prm_model', rm,
                                      '--prm_threshold', '0.9999'))
    assert dropped['filtered'] == 5 and dropped['num_rows'] == 0


PRM_PLUGIN = '''
from swift.plugin import PRM, prms


class StepCount(PRM):
    def __call__(self, infer_requests, **kwargs):
        return [[1.0] * (r.messages[-1]['content'].count(' ') + 1) for r in infer_requests]


prms['steps'] = StepCount
'''


def test_prm_plugin(tmp_path, math_jsonl):
    plugin = tmp_path / 'prm.py'
    plugin.write_text(PRM_PLUGIN)
    result = sample_main(sample_argv(math_jsonl, tmp_path, 'prm_plugin.jsonl', '--prm_model', 'steps',
                                     '--external_plugins', str(plugin), '--n_best_to_keep', '1'))
    rows = read_jsonl(result['output_file'])
    assert len(rows) == 5 and all(r['prm_score'] == 1.0 for r in rows)


def test_mcts(tmp_path, math_jsonl, length_plugin):
    result = sample_main(sample_argv(f'{math_jsonl}#2', tmp_path, 'mcts.jsonl', '--sampler_type', 'mcts',
                                     '--orm_model', 'length', '--external_plugins', length_plugin,
                                     '--num_return_sequences', '2', '--max_iterations', '3', '--rollout_start_depth',
                                     '1', '--rollout_depth', '2', '--stop_words', '.', '--n_best_to_keep', '2'))
    rows = read_jsonl(result['output_file'])
    assert result['rows'] == 2 and result['samples'] >= 2 and rows
    assert all(r['score'] == r['orm_score'] for r in rows)


def test_row_id_is_stable():
    row = {'messages': [{'role': 'user', 'content': 'q'}], 'solution': '1'}
    assert row_id(row) == row_id(dict(reversed(list(row.items())))) != row_id({**row, 'solution': '2'})
