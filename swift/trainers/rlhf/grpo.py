"""GRPO on trl's GRPOTrainer: prompts are encoded by our template, reward functions come from the ORM registry
(dataset columns reach them as keyword arguments, `images` included), and --log_completions writes
output_dir/completions.jsonl. Image rows go through our template too (grpo_media.py): trl never sees the `images`
column, so its processor-based VLM path stays unused, and the encoded tensors reach generate and every forward."""
import inspect
import json
import os
from typing import Callable, List

import torch
from trl import GRPOTrainer as HfGRPOTrainer

from swift.plugin import completion_text, orms
from swift.template.multimodal import media_list
from swift.template.rlhf import encode_prompt
from swift.utils import SwiftError, get_logger
from .grpo_media import MEDIA_COLUMNS, PromptMedia, chunk_media, has_media, media_token_ids
from .mixin import SwiftMixin

COMPLETIONS_FILE = 'completions.jsonl'
logger = get_logger()


def build_reward_func(name: str, args, tokenizer=None) -> Callable:
    """The registered reward `name` as a trl reward function: text completions in, errors named."""
    entry = orms.get(name)
    if inspect.isclass(entry):
        params = inspect.signature(entry.__init__).parameters
        kwargs = {k: getattr(args, k) for k in params if k not in ('self', 'args', 'kwargs') and hasattr(args, k)}
        if 'tokenizer' in params:
            kwargs['tokenizer'] = tokenizer
        entry = entry(**kwargs)

    def reward_func(completions, **kwargs) -> List[float]:
        texts = [completion_text(c) for c in completions]
        try:
            rewards = entry(texts, **kwargs)
        except TypeError as e:
            raise SwiftError(f'Reward function {name!r} failed: {e}; the dataset columns it receives are '
                             f'{", ".join(sorted(kwargs))}.') from e
        except Exception as e:
            raise SwiftError(f'Reward function {name!r} raised {type(e).__name__}: {e}; fix the function or drop '
                             f'it from --reward_funcs.') from e
        return [None if r is None else float(r) for r in rewards]

    reward_func.__name__ = name
    return reward_func


class GRPOTrainer(SwiftMixin, HfGRPOTrainer):

    def __init__(self, *args, template=None, log_completions_file: bool = False, **kwargs):
        self.template = template
        self._completions_path = None
        self._batch_rows = self._media = None  # the rows / image encodings of the batch being generated
        super().__init__(*args, **kwargs)
        if log_completions_file:
            self._completions_path = os.path.join(self.args.output_dir, COMPLETIONS_FILE)
        self._suppress_media_tokens()
        self._note_text_reward_models()

    def _note_text_reward_models(self) -> None:
        columns = getattr(self.train_dataset, 'column_names', None) or []
        models = [n for f, n in zip(self.reward_funcs, self.reward_func_names) if isinstance(f, torch.nn.Module)]
        if models and 'images' in columns:
            logger.warning(f'Reward model {", ".join(models)} scores the prompt and completion text only: the rows\' '
                           'images reach the reward functions (kwargs["images"]), not a sequence-classification '
                           'reward model.')

    def _suppress_media_tokens(self) -> None:
        ids = media_token_ids(self.template)
        if not ids or not hasattr(self, 'generation_config'):  # vLLM: images refused in _generate_and_score
            return
        suppress = sorted(set(self.generation_config.suppress_tokens or []) | set(ids))
        self.generation_config.suppress_tokens = suppress
        self.generation_kwargs['suppress_tokens'] = suppress

    def _generate_and_score_completions(self, inputs):
        """Media columns are kept away from trl (its VLM path would re-render prompts with the HF processor); image rows
        are encoded by our template here and their tensors added to the batch the loss reads."""
        if not any(c in inputs[0] for c in MEDIA_COLUMNS):
            return super()._generate_and_score_completions(inputs)
        if any(media_list(row, 'videos') for row in inputs):
            raise SwiftError('--rlhf_type grpo takes images, not videos (trl\'s GRPO forward passes no video '
                             'tensors); drop the videos column or train them with swift sft / --rlhf_type dpo.')
        if self.use_vllm and has_media(inputs):
            raise SwiftError('GRPO with images generates with the PyTorch engine in this version: drop --use_vllm.')
        self._batch_rows = inputs
        self._media = PromptMedia(self.template, inputs) if has_media(inputs) else None
        try:
            output = super()._generate_and_score_completions(
                [{k: v for k, v in row.items() if k not in MEDIA_COLUMNS} for row in inputs])
            if self._media is not None:
                input_ids = torch.cat([output['prompt_ids'], output['completion_ids']], dim=1)
                output.update(self._media.forward_kwargs(input_ids, output['completion_ids'].size(1)))
        finally:
            self._batch_rows = self._media = None
        return output

    def _tokenize_prompts(self, prompts: list):
        """Prompts are message lists; our template encodes them (the tokenizer's chat template is not used)."""
        if self._media is not None:  # image rows: encoded with their images in _generate_and_score_completions
            return list(self._media.prompt_ids), None, self._media.generate_fields()
        prompt_ids = [encode_prompt(self.template, {'messages': p}) for p in prompts]
        return prompt_ids, None, {}

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None,
                                           compute_entropy=False, compute_aux_loss=False, **media):
        # trl's forwards inside generation (old / reference log-probs) get no media from trl: add ours
        if self._media is not None and media.get('pixel_values') is None:
            media.update(self._media.forward_kwargs(input_ids, logits_to_keep))
        run = super()._get_per_token_logps_and_entropies
        size = batch_size or input_ids.size(0)
        chunks = [(s, min(s + size, input_ids.size(0))) for s in range(0, input_ids.size(0), size)]
        num_images = media.get('num_images')
        if num_images is None or all(sum(num_images[s:e]) for s, e in chunks):
            return run(model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy,
                       compute_aux_loss, **media)
        # a chunk of text-only rows: trl would hand the model empty pixel_values; each chunk gets its own media
        outs = [run(model, input_ids[s:e], attention_mask[s:e], logits_to_keep, None, compute_entropy,
                    compute_aux_loss, **chunk_media(media, s, e)) for s, e in chunks]
        return (torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs]) if compute_entropy else None,
                torch.stack([o[2] for o in outs]).mean() if compute_aux_loss else None)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        if self._batch_rows is not None:  # the rows with their images column: reward functions read kwargs['images']
            inputs = self._batch_rows
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self._completions_path and self.accelerator.is_main_process:
            self._write_completions(prompts, completions, rewards)
        return rewards

    def _write_completions(self, prompts, completions, rewards: torch.Tensor) -> None:
        os.makedirs(os.path.dirname(self._completions_path), exist_ok=True)
        local = rewards[:len(prompts)].tolist()  # gathered rewards: this process's rows come first on rank 0
        with open(self._completions_path, 'a', encoding='utf-8') as f:
            for prompt, completion, row in zip(prompts, completions, local):
                record = {'step': self.state.global_step, 'prompt': prompt, 'completion': completion_text(completion),
                          'rewards': dict(zip(self.reward_func_names, row))}
                f.write(json.dumps(record, ensure_ascii=False) + '\n')
