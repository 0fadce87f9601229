"""Outcome reward functions (ORM) for GRPO: `orm(completions, **dataset_columns) -> list[float]`.

ms-swift names: `from swift.plugin import ORM, orms`; `orms['my_reward'] = MyReward` registers a class (built with
the matching GRPO arguments as keyword arguments) or a plain function.
"""
from abc import ABC, abstractmethod
import math
import re
from typing import Any, List, Optional

from .registry import PluginRegistry

orms: PluginRegistry = PluginRegistry('reward function', 'reward_funcs')


def completion_text(completion: Any) -> str:
    """A completion as text: trl hands conversational completions as [{'role': 'assistant', 'content': ...}]."""
    if isinstance(completion, list):
        return ''.join(str(m.get('content') or '') for m in completion if isinstance(m, dict))
    return str(completion)


class ORM(ABC):
    """Base class: subclasses implement `__call__(completions, **kwargs) -> list[float]`."""

    @abstractmethod
    def __call__(self, completions: List[str], **kwargs) -> List[float]:
        """One reward per completion; dataset columns (e.g. `solution`) arrive as keyword arguments."""


_BOXED = re.compile(r'\\boxed\{')
_NUMBER = re.compile(r'-?\d[\d,]*(?:\.\d+)?(?:/\d+)?|-?\.\d+')


def _last_boxed(text: str) -> Optional[str]:
    """Content of the last \\boxed{...}, braces balanced."""
    starts = [m.end() for m in _BOXED.finditer(text)]
    if not starts:
        return None
    depth, start = 1, starts[-1]
    for i in range(start, len(text)):
        depth += {'{': 1, '}': -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    return None


def extract_answer(text: str) -> Optional[str]:
    """The answer of a math completion: the last \\boxed{} content, else the last number; None if neither."""
    answer = re.search(r'<answer>(.*?)</answer>', text, re.DOTALL)
    text = answer.group(1) if answer else text
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def _as_number(text: str) -> Optional[float]:
    text = text.replace(',', '').replace('$', '').strip().rstrip('.')
    try:
        if '/' in text:
            num, den = text.split('/', 1)
            return float(num) / float(den)
        return float(text)
    except (ValueError, ZeroDivisionError):
        return None


def answers_match(completion: str, solution: str) -> bool:
    predicted, expected = extract_answer(completion), extract_answer(str(solution))
    if expected is None:
        expected = str(solution).strip()
    if predicted is None:
        return False
    a, b = _as_number(predicted), _as_number(expected)
    if a is not None and b is not None:
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return predicted.replace(' ', '') == expected.replace(' ', '')


class MathAccuracy(ORM):
    """1.0 when the completion's answer (last \\boxed{} or last number) equals the `solution` column's, else 0.0."""

    def __call__(self, completions, solution, **kwargs) -> List[float]:
        return [float(answers_match(completion_text(c), s)) for c, s in zip(completions, solution)]


class Format(ORM):
    """1.0 for `<think>...</think><answer>...</answer>` (whitespace between allowed), else 0.0."""
    pattern = re.compile(r'^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$', re.DOTALL)

    def __call__(self, completions, **kwargs) -> List[float]:
        return [1.0 if self.pattern.match(completion_text(c)) else 0.0 for c in completions]


class CosineReward(ORM):
    """Length-scaled accuracy (Demystifying Long CoT): correct answers earn more when short, wrong answers are
    punished less when long; the reward follows a half cosine from the min-length to the max-length value."""

    def __init__(self, cosine_min_len_value_wrong: float = 0.0, cosine_max_len_value_wrong: float = -0.5,
                 cosine_min_len_value_correct: float = 1.0, cosine_max_len_value_correct: float = 0.5,
                 cosine_max_len: int = 1000, tokenizer=None):
        self.wrong = (cosine_min_len_value_wrong, cosine_max_len_value_wrong)
        self.correct = (cosine_min_len_value_correct, cosine_max_len_value_correct)
        self.max_len = max(int(cosine_max_len), 1)
        self.tokenizer = tokenizer

    def _length(self, text: str, ids) -> int:
        if ids is not None:
            return len(ids)
        if self.tokenizer is not None:
            return len(self.tokenizer.encode(text, add_special_tokens=False))
        return len(text.split())

    def __call__(self, completions, solution, completion_ids=None, **kwargs) -> List[float]:
        rewards = []
        for i, (completion, sol) in enumerate(zip(completions, solution)):
            text = completion_text(completion)
            length = min(self._length(text, completion_ids[i] if completion_ids is not None else None),
                         self.max_len)
            at_zero, at_max = self.correct if answers_match(text, sol) else self.wrong
            rewards.append(at_max + (at_zero - at_max) * (1 + math.cos(math.pi * length / self.max_len)) / 2)
        return rewards


class RepetitionPenalty(ORM):
    """`repetition_max_penalty` times the share of repeated word n-grams (0 for text without repeats)."""

    def __init__(self, repetition_n_grams: int = 3, repetition_max_penalty: float = -1.0):
        if repetition_max_penalty > 0:
            raise ValueError(f'repetition_max_penalty must be <= 0, got {repetition_max_penalty}.')
        self.n = repetition_n_grams
        self.max_penalty = repetition_max_penalty

    def __call__(self, completions, **kwargs) -> List[float]:
        rewards = []
        for completion in completions:
            words = completion_text(completion).lower().split()
            if len(words) < self.n:
                rewards.append(0.0)
                continue
            grams = [tuple(words[i:i + self.n]) for i in range(len(words) - self.n + 1)]
            rewards.append((1 - len(set(grams)) / len(grams)) * self.max_penalty)
        return rewards


orms['accuracy'] = MathAccuracy
orms['format'] = Format
orms['cosine'] = CosineReward
orms['repetition'] = RepetitionPenalty
