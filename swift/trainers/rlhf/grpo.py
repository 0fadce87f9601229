"""GRPO on trl's GRPOTrainer: prompts are encoded by our template, reward functions come from the ORM registry
(dataset columns reach them as keyword arguments), and --log_completions writes output_dir/completions.jsonl."""
import inspect
import json
import os
from typing import Callable, List

import torch
from trl import GRPOTrainer as HfGRPOTrainer

from swift.plugin import completion_text, orms
from swift.template.rlhf import encode_prompt
from swift.utils import SwiftError
from .mixin import SwiftMixin

COMPLETIONS_FILE = 'completions.jsonl'


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
        super().__init__(*args, **kwargs)
        if log_completions_file:
            self._completions_path = os.path.join(self.args.output_dir, COMPLETIONS_FILE)

    def _tokenize_prompts(self, prompts: list):
        """Prompts are message lists; our template encodes them (the tokenizer's chat template is not used)."""
        prompt_ids = [encode_prompt(self.template, {'messages': p}) for p in prompts]
        return prompt_ids, None, {}

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
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
