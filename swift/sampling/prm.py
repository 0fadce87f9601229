"""A process reward model from a reward-model checkpoint (a seq_cls model with one label, as `swift rlhf
--rlhf_type rm` trains): every prefix of the solution's steps is scored; scores are sigmoid probabilities."""
import os
from typing import List

from swift.utils import ArgumentError

STEP_SEPARATOR = '\n\n'


def split_steps(text: str) -> List[str]:
    steps = [s for s in text.split(STEP_SEPARATOR) if s.strip()]
    return steps or [text]


class RewardModelPRM:
    """`prm(infer_requests) -> [[score per step], ...]`; the last assistant message of each request is judged."""

    def __init__(self, model, template):
        self.model, self.template = model, template

    @classmethod
    def from_pretrained(cls, path: str, args) -> 'RewardModelPRM':
        from swift.model import get_model_tokenizer
        from swift.template import get_template
        if not os.path.isdir(path):
            raise ArgumentError(f'--prm_model {path}: neither a registered PRM plugin nor a checkpoint directory.')
        model, tokenizer = get_model_tokenizer(path, args.torch_dtype or 'float32', task_type='seq_cls',
                                               num_labels=1)
        # a checkpoint of an unregistered type still carries its chat template (chat_template.jinja)
        template_type = tokenizer.model_meta.template or ('jinja' if tokenizer.chat_template else None)
        if template_type is None:
            raise ArgumentError(f'--prm_model {path}: no chat template found; save one with the checkpoint.')
        template = get_template(template_type, tokenizer, max_length=args.max_length, truncation_strategy='left')
        template.set_mode('train')
        model.eval()
        return cls(model, template)

    def _score(self, messages: List[dict]) -> float:
        import torch
        ids = self.template.encode({'messages': messages}, mode='train')['input_ids']
        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor([ids], device=self.model.device)).logits
        return float(torch.sigmoid(logits[0, 0].float()))

    def __call__(self, infer_requests, **kwargs) -> List[List[float]]:
        out = []
        for request in infer_requests:
            *prompt, answer = request.messages
            steps = split_steps(answer.get('content') or '')
            out.append([self._score(prompt + [{'role': 'assistant', 'content': STEP_SEPARATOR.join(steps[:k])}])
                        for k in range(1, len(steps) + 1)])
        return out
