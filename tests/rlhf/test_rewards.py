"""Built-in reward functions on hand-made completions."""
import math

import pytest

from swift.plugin import CosineReward, Format, MathAccuracy, RepetitionPenalty, extract_answer, orms
from swift.utils import ArgumentError


def test_accuracy_matches_boxed_or_last_number():
    acc = MathAccuracy()
    completions = ['so the answer is \\boxed{42}', 'I think 41, no wait: 42', 'it is \\boxed{\\frac{1}{2}}',
                   'no number here', 'total 1,000.', 'answer 0.5']
    solutions = ['42', '42', '\\boxed{\\frac{1}{2}}', '3', '1000', '1/2']
    assert acc(completions, solution=solutions) == [1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    assert acc(['\\boxed{7}'], solution=['8']) == [0.0]
    assert extract_answer('<think>3</think><answer>\\boxed{5}</answer>') == '5'


def test_format_requires_think_then_answer():
    fmt = Format()
    assert fmt(['<think>a</think>\n<answer>b</answer>', '<answer>b</answer>', '<think>a</think>b',
                [{'role': 'assistant', 'content': '<think>x</think><answer>y</answer>'}]]) == [1.0, 0.0, 0.0, 1.0]


def test_cosine_prefers_short_correct_and_long_wrong():
    cos = CosineReward(cosine_max_len=10)
    short_right, long_right = cos(['4', ' '.join(['x'] * 9) + ' 4'], solution=['4', '4'])
    short_wrong, long_wrong = cos(['5', ' '.join(['x'] * 9) + ' 5'], solution=['4', '4'])
    assert short_right > long_right >= 0.5 and math.isclose(cos(['4'], solution=['4'], completion_ids=[[]])[0], 1.0)
    assert short_wrong > long_wrong and math.isclose(cos(['5'], solution=['4'], completion_ids=[[0] * 10])[0], -0.5)


def test_repetition_penalises_repeated_ngrams():
    rep = RepetitionPenalty(repetition_n_grams=2, repetition_max_penalty=-1.0)
    fresh, repeated, short = rep(['a b c d e', 'a b a b a b a b', 'a'])
    assert fresh == 0.0 and short == 0.0 and -1.0 < repeated < -0.5


def test_misspelled_reward_lists_known_names():
    with pytest.raises(ArgumentError, match='--reward_funcs acuracy: unknown reward function. Did you mean: accuracy'):
        orms.get('acuracy')
