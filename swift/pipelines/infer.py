"""`swift infer`: chat in the terminal, or run a dataset through the model into a result jsonl (+ acc/rouge)."""
import dataclasses
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Union

from swift.arguments.infer_args import InferArguments
from swift.utils import ArgumentError, SwiftError, get_logger
from swift.utils.atomic import open_staged
from .base import build_template, load_datasets, load_model_tokenizer, to_args

logger = get_logger()
CLI_HELP = ('Type a message and press Enter. A line ending with \\ continues on the next line; `multi-line` '
            'switches to multi-line input ending with #, `single-line` back. Commands: clear (forget the '
            'conversation), reset-system (set a new system prompt), exit or quit.')
MEDIA_HELP = ('This is a vision model: write <image> (or <video>) where a picture goes in your message, then give '
              'its path (or a data URL) when asked.')


def request_config_from_args(args: InferArguments, **overrides):
    from swift.infer import RequestConfig
    config = RequestConfig(
        max_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty, num_beams=args.num_beams, stop=list(args.stop_words),
        stream=args.stream, logprobs=args.logprobs, top_logprobs=args.top_logprobs)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def build_engine(args: InferArguments):
    """The engine --infer_backend names, owning --adapters; for pt, --merge_lora merges them into the base in
    memory (the engine then has none)."""
    from transformers import set_seed
    set_seed(args.seed)  # sampled answers repeat for the same --seed
    default_config = request_config_from_args(args, stream=False)
    check_adapter_files(args.adapters)  # before any weights load
    if args.infer_backend != 'pt':
        return build_gpu_engine(args, args.adapters, default_config)
    from swift.infer import PtEngine
    model, tokenizer = load_model_tokenizer(args)
    template = build_template(args, tokenizer, mode='infer')
    adapters = args.adapters
    from swift.export.merge import check_same_base
    from swift.tuners import merge_into_base, stacked_base_adapters
    from swift.utils import parse_adapters
    stacked = [b for p in parse_adapters(adapters).values() for b in stacked_base_adapters(p)]
    if stacked:  # --create_new_adapter checkpoints: their base had these adapters merged in
        model = merge_into_base(model, list(dict.fromkeys(stacked)))
    for path in parse_adapters(adapters).values():
        check_same_base(model, path)  # one line, as `swift export` says it, not peft's size-mismatch dump
    from swift.tuners import load_plugin_tuner
    plugin_model = load_plugin_tuner(args.train_type, model, list(parse_adapters(adapters).values()),
                                     merge=args.merge_lora)
    if plugin_model is not None:  # the adapters are part of the model now
        model, adapters = plugin_model, []
    if args.merge_lora:
        model = merge_lora(model, adapters)
        adapters = []
    model, adapters = _apply_hook_tuners(model, adapters)
    return PtEngine.from_model_template(model, template, args.max_batch_size, adapters=adapters,
                                        default_config=default_config, owns_model=True)


def check_adapter_files(adapters: List[str]) -> None:
    """Each adapter dir exists with a readable adapter_config.json and (when present) a complete
    adapter_model.safetensors, or one line naming the file."""
    from safetensors import SafetensorError, safe_open
    from swift.tuners.adapters import read_adapter_config
    from swift.utils import parse_adapters
    for path in parse_adapters(adapters).values():
        if not os.path.isdir(path):
            raise ArgumentError(f'--adapters {path}: directory not found.')
        try:
            read_adapter_config(path)
        except ValueError as e:
            raise ArgumentError(f'--adapters {path}: adapter_config.json is not valid JSON ({e}).') from None
        weights = os.path.join(path, 'adapter_model.safetensors')
        if os.path.isfile(weights):
            try:
                with safe_open(weights, 'pt') as f:
                    for key in f.keys():
                        f.get_slice(key)
                size = os.path.getsize(weights)
                _check_safetensors_size(weights, size)
            except (OSError, ValueError, SafetensorError) as e:
                raise ArgumentError(f'--adapters {path}: adapter_model.safetensors is truncated or corrupt ({e}); '
                                    'save the adapter again.') from None


def _check_safetensors_size(path: str, size: int) -> None:
    """The header names where the last tensor ends: a shorter file was cut off mid-write."""
    import struct
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
    end = max((v['data_offsets'][1] for k, v in header.items() if k != '__metadata__'), default=0)
    if 8 + n + end > size:
        raise ValueError(f'{size} bytes, the header needs {8 + n + end}')


def _apply_hook_tuners(model, adapters: List[str]):
    """adapter / reft directories are applied to the model itself (always active), alone."""
    from swift.utils import parse_adapters
    from swift.tuners import hook_tuner_type, load_hook_tuner
    paths = list(parse_adapters(adapters).values())
    hooked = [p for p in paths if hook_tuner_type(p)]
    if not hooked:
        return model, adapters
    if len(paths) > 1:
        raise ArgumentError(f'--adapters {hooked[0]} ({hook_tuner_type(hooked[0])}) changes the model itself: '
                            'serve it alone, without other adapters.')
    return load_hook_tuner(model, hooked[0]), []


def build_gpu_engine(args: InferArguments, adapters: List[str], default_config):
    """The vllm or lmdeploy engine, fed by the template the arguments build (--tools_prompt, --truncation_strategy,
    --template_backend, --loss_scale, ... reach it as they reach the pt engine)."""
    from swift.utils import parse_adapters
    from swift.tuners import hook_tuner_type, stacked_base_adapters
    if any(hook_tuner_type(p) for p in parse_adapters(adapters).values()):
        raise ArgumentError(f'--infer_backend {args.infer_backend} cannot run adapter/reft tuners: use '
                            '--infer_backend pt.')
    from swift.plugin import tuners
    if adapters and args.train_type in tuners:
        raise ArgumentError(f'--infer_backend {args.infer_backend} loads only peft adapters, and these checkpoints '
                            f'are of the plugin tuner {args.train_type}: use --infer_backend pt, or merge them '
                            'first (swift export --merge_lora true) and serve the merged model.')
    if args.merge_lora:
        raise ArgumentError(f'--merge_lora with --infer_backend {args.infer_backend}: merge first with '
                            '`swift export --merge_lora true` and pass the merged model.')
    if any(stacked_base_adapters(p) for p in parse_adapters(adapters).values()):
        raise ArgumentError(f'--infer_backend {args.infer_backend}: these --adapters were trained with '
                            '--create_new_adapter on a merged base; merge them with `swift export --merge_lora true` '
                            'and serve the merged model, or use --infer_backend pt.')
    if args.new_special_tokens:  # the engine loads --model itself: it would not see the grown vocabulary
        raise ArgumentError(f'--new_special_tokens with --infer_backend {args.infer_backend}: merge the adapters '
                            'first (`swift export --merge_lora true` saves the grown vocabulary) and serve the merged '
                            'model, or use --infer_backend pt.')
    if args.infer_backend == 'lmdeploy' and adapters:
        raise ArgumentError('--infer_backend lmdeploy serves no LoRA adapters here: merge them first with '
                            '`swift export --merge_lora true`, or use --infer_backend vllm or pt.')
    _, tokenizer = load_model_tokenizer(args, load_model=False)
    template = build_template(args, tokenizer, mode='infer')
    common = dict(template=template, default_config=default_config)
    if args.infer_backend == 'vllm':
        from swift.infer.vllm import VllmEngine
        return VllmEngine(
            args.model, args.torch_dtype, adapters=adapters, gpu_memory_utilization=args.gpu_memory_utilization,
            tensor_parallel_size=args.tensor_parallel_size, pipeline_parallel_size=args.pipeline_parallel_size,
            max_num_seqs=args.max_num_seqs, max_model_len=args.max_model_len,
            disable_custom_all_reduce=args.disable_custom_all_reduce, enforce_eager=args.enforce_eager,
            limit_mm_per_prompt=args.limit_mm_per_prompt, max_lora_rank=args.vllm_max_lora_rank,
            enable_prefix_caching=args.enable_prefix_caching, **common)
    from swift.infer.lmdeploy import LmdeployEngine
    return LmdeployEngine(args.model, args.torch_dtype, tp=args.tp, session_len=args.session_len,
                          cache_max_entry_count=args.cache_max_entry_count, quant_policy=args.quant_policy,
                          vision_batch_size=args.vision_batch_size, **common)


def merge_lora(model, adapters: List[str]):
    """Apply and merge every adapter into the base weights (in memory; `swift export` saves merged models)."""
    from peft import PeftModel
    from swift.export.merge import check_mergeable
    from swift.utils import parse_adapters
    adapters = parse_adapters(adapters)
    check_mergeable(list(adapters.values()))  # adapter / reft cannot merge: one line
    for name, path in adapters.items():
        model = PeftModel.from_pretrained(model, path, adapter_name=name).merge_and_unload()
        logger.info(f'Merged adapter {path} into the base model (in memory).')
    return model


class SwiftInfer:
    args_class = InferArguments
    prog = 'swift infer'

    def __init__(self, args: Union[None, InferArguments, Sequence[str]] = None):
        self.args = to_args(self.args_class, args, self.prog)

    def run(self):
        from swift.distributed import RankShard
        shard = RankShard.from_env()
        batch = bool(self.args.dataset or self.args.val_dataset)
        if shard.world_size > 1 and not batch:
            raise ArgumentError('NPROC_PER_NODE > 1 shards a dataset across processes: pass --val_dataset (or '
                                '--dataset), or chat in one process.')
        if shard.world_size > 1 and self.args.device_map is None and shard.device():
            self.args.device_map = shard.device()  # one GPU per rank
        engine = build_engine(self.args)
        try:
            if batch:
                return self.infer_dataset(engine, shard)
            return self.infer_cli(engine)
        finally:
            engine.close()
            shard.close()

    # ----- interactive -----
    def infer_cli(self, engine, stdin=None, stdout=None) -> None:
        from swift.infer import InferRequest
        stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
        args = self.args
        config = request_config_from_args(args, stream=args.num_beams == 1)
        print(CLI_HELP, file=stdout)
        multimodal = getattr(getattr(engine, 'template', None), 'processor', None) is not None
        if multimodal:
            print(MEDIA_HELP, file=stdout)
        system, messages, multi_line, media = args.system, [], False, {'images': [], 'videos': []}
        while True:
            query = read_query(stdin, stdout, '<<< ', multi_line)
            if query is None or query.strip() in ('exit', 'quit'):
                return
            command = query.strip()
            if command in ('multi-line', 'single-line'):
                multi_line = command == 'multi-line'
                continue
            if command == 'clear':
                messages, media = [], {'images': [], 'videos': []}
                print('[history cleared]', file=stdout)
                continue
            if command == 'reset-system':
                system = read_query(stdin, stdout, '<<<[system] ', multi_line) or None
                messages, media = [], {'images': [], 'videos': []}
                continue
            new_media = read_media(query, stdin, stdout) if multimodal else {'images': [], 'videos': []}
            head = [{'role': 'system', 'content': system}] if system is not None else []
            request = InferRequest(head + messages + [{'role': 'user', 'content': query}],
                                   images=media['images'] + new_media['images'],
                                   videos=media['videos'] + new_media['videos'])
            try:
                response = _chat(engine, request, config, stdout)
            except SwiftError as e:  # e.g. an image path that does not exist: say so, keep the conversation
                print(f'[ERROR] {e}', file=stdout, flush=True)
                continue
            media = {'images': request.images, 'videos': request.videos}
            messages += [{'role': 'user', 'content': query}, {'role': 'assistant', 'content': response}]

    # ----- dataset -----
    def infer_dataset(self, engine, shard=None) -> Optional[Dict[str, Any]]:
        """Under torchrun each rank infers a contiguous block of rows; rank 0 writes them in the original order."""
        from swift.distributed import RankShard, gather_in_order, shard_rows
        from swift.infer import InferRequest
        args = self.args
        shard = shard or RankShard()
        shard.init_process_group(args.ddp_backend)
        rows = shard_rows(self._rows(), shard.rank, shard.world_size)
        requests, references = [], []
        for row in rows:
            messages = list(row['messages'])
            reference = messages.pop()['content'] if messages and messages[-1]['role'] == 'assistant' else None
            requests.append(InferRequest(messages, tools=row.get('tools') or None, images=list(row.get('images') or []),
                                         videos=list(row.get('videos') or [])))
            references.append(reference)
        config = request_config_from_args(args, stream=False)
        responses = engine.infer(requests, config, use_tqdm=shard.is_main)
        results = gather_in_order([_result_row(row, req, ref, resp) for row, req, ref, resp in
                                   zip(rows, requests, references, responses)], shard)
        if not shard.is_main:
            return None
        references = [r['labels'] for r in results]
        result_path = args.result_path or args.default_result_path()
        _write_jsonl(result_path, results)
        print(f'[INFO] result_path: {os.path.abspath(result_path)}')
        metrics = compute_metric(args.metric, [r['response'] for r in results], references) if args.metric else {}
        if metrics:
            print(f'[INFO] {args.metric}: {json.dumps(metrics)}')
        return {'result_path': os.path.abspath(result_path), 'metrics': metrics, 'num_rows': len(results)}

    def _rows(self) -> List[Dict[str, Any]]:
        args = self.args
        if args.val_dataset:
            only_val = dataclasses.replace(  # ms-swift mixes --dataset entries only, never --val_dataset
                args, dataset=list(args.val_dataset), val_dataset=[], split_dataset_ratio=0., interleave_prob=[],
                mix_strategy='concat', interleave_probs=None, stopping_strategy='first_exhausted')
            dataset = load_datasets(only_val)[0]
        else:  # the held-out split of --dataset, or all of it with --split_dataset_ratio 0
            train, val = load_datasets(args)
            dataset = val if val is not None else train
        if args.val_dataset_sample is not None and args.val_dataset_sample < len(dataset):
            dataset = dataset.shuffle(seed=args.data_seed).select(range(args.val_dataset_sample))
        return [dict(row) for row in dataset]


def read_query(stdin, stdout, prompt: str, multi_line: bool) -> Optional[str]:
    """One user input: lines ending with \\ continue; in multi-line mode input ends at a line ending with #."""
    lines = []
    print(prompt, end='', file=stdout, flush=True)
    while True:
        line = stdin.readline()
        if not line:
            return '\n'.join(lines) if lines else None
        line = line.rstrip('\n')
        if multi_line and line.endswith('#'):
            lines.append(line[:-1])
            return '\n'.join(lines)
        if not multi_line and not line.endswith('\\'):
            lines.append(line)
            return '\n'.join(lines)
        lines.append(line[:-1] if line.endswith('\\') else line)


def read_media(query: str, stdin, stdout) -> Dict[str, List[str]]:
    """One path (or data URL) per <image> / <video> tag of the query, asked for in order (as ms-swift does)."""
    out = {}
    for kind in ('image', 'video'):
        article = 'an' if kind == 'image' else 'a'
        out[f'{kind}s'] = [(read_query(stdin, stdout, f'Input {article} {kind} path <<< ', False) or '').strip()
                           for _ in range(query.count(f'<{kind}>'))]
    return out


def _chat(engine, request, config, stdout) -> str:
    if not config.stream:
        text = engine.infer([request], config)[0].choices[0].message.content or ''
        print(text, file=stdout, flush=True)
        return text
    parts = []
    for chunk in engine.infer([request], config)[0]:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            parts.append(delta)
            print(delta, end='', file=stdout, flush=True)
    print(file=stdout, flush=True)
    return ''.join(parts)


def _result_row(row, request, reference, response) -> Dict[str, Any]:
    choice = response.choices[0]
    out = {k: v for k, v in row.items() if k not in ('messages', 'tools')}
    if out.get('images'):  # PIL images or datasets.Image bytes -> data URLs, so the result line is JSON
        from swift.infer.client import to_data_url
        out['images'] = [ref if isinstance(ref, str) else to_data_url(ref) for ref in out['images']]
    out['messages'] = request.messages
    if request.tools:
        out['tools'] = request.tools
    out['response'] = choice.message.content or ''
    if choice.message.tool_calls:
        out['tool_calls'] = [c.to_dict() for c in choice.message.tool_calls]
    out['labels'] = reference
    if choice.logprobs is not None:
        out['logprobs'] = choice.logprobs
    return out


def compute_metric(metric: str, predictions: List[str], references: List[Optional[str]]) -> Dict[str, float]:
    """'acc': exact match after stripping; 'rouge': mean ROUGE-L and BLEU-4 F (rows without a reference skipped)."""
    pairs = [(p, r) for p, r in zip(predictions, references) if r is not None]
    if not pairs:
        raise ArgumentError(f'--metric {metric} needs reference answers: the dataset rows have no final '
                            'assistant message.')
    if metric == 'acc':
        return {'acc': sum(p.strip() == r.strip() for p, r in pairs) / len(pairs)}
    from swift.utils.nlg_metrics import nlg_scores
    scores = nlg_scores([p for p, _ in pairs], [r for _, r in pairs])
    return {name: sum(values) / len(values) for name, values in scores.items()}


def _write_jsonl(path: str, rows: List[Dict[str, Any]]) -> None:
    with open_staged(path) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')


def infer_main(args: Union[None, InferArguments, Sequence[str]] = None):
    return SwiftInfer(args).run()


if __name__ == '__main__':
    infer_main()
