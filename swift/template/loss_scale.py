"""Loss-scale strategies: how much each rendered piece of a conversation weighs in the loss.

A strategy is `fn(context, context_type, is_last_round, *, query=None) -> (contexts, weights)`: it may split one
piece (a string, or a token-id list) into several with their own weights (ms-swift's `get_loss_scale` contract).
Classes with a `get_loss_scale` method (ms-swift plugin style) are accepted by `register_loss_scale` too.
Weight 0 means no loss (label -100); any other weight supervises the tokens and scales their loss.
"""
import re
from typing import Callable, Dict, List, Sequence, Tuple, Union

from swift.plugin.loss_scale import loss_scale_map
from swift.utils import ArgumentError, TemplateError

from .constant import ContextType

Context = Union[str, List[int]]
LossScaleFn = Callable[..., Tuple[List[Context], List[float]]]

LOSS_SCALE_MAPPING = loss_scale_map  # ms-swift 3.x: `from swift.plugin import loss_scale_map`


def register_loss_scale(name: str, fn, *, exist_ok: bool = False):
    try:
        return LOSS_SCALE_MAPPING.register(name, fn, exist_ok=exist_ok)
    except ArgumentError as e:
        raise TemplateError(str(e)) from None


def get_loss_scale(name: str) -> LossScaleFn:
    try:
        return LOSS_SCALE_MAPPING.get(name)
    except ArgumentError as e:
        raise TemplateError(str(e)) from None


def default_loss_scale(context, context_type, is_last_round, **kwargs):
    """Every assistant response and its end-of-turn token."""
    return [context], [1. if context_type in (ContextType.RESPONSE, ContextType.SUFFIX) else 0.]


def last_round_loss_scale(context, context_type, is_last_round, **kwargs):
    if not is_last_round:
        return [context], [0.]
    return default_loss_scale(context, context_type, is_last_round)


def all_loss_scale(context, context_type, is_last_round, **kwargs):
    return [context], [1.]


def _split_by_keywords(text: str, keywords: Dict[str, Sequence[float]]) -> Tuple[List[str], List[float]]:
    pattern = '|'.join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
    contexts, weights, pos, weight = [], [], 0, 1.
    for m in re.finditer(pattern, text):
        if m.start() > pos:
            contexts.append(text[pos:m.start()])
            weights.append(weight)
        keyword_weight, weight = keywords[m.group()]
        contexts.append(m.group())
        weights.append(keyword_weight)
        pos = m.end()
    if pos < len(text):
        contexts.append(text[pos:])
        weights.append(weight)
    return contexts, weights


def keyword_loss_scale(keywords: Dict[str, Sequence[float]]) -> LossScaleFn:
    """Inside responses, `keyword: (weight of the keyword, weight of the text after it until the next keyword)`.
    Text before the first keyword weighs 1; other pieces follow 'default'."""

    def fn(context, context_type, is_last_round, **kwargs):
        if context_type != ContextType.RESPONSE or not isinstance(context, str) or not context:
            return default_loss_scale(context, context_type, is_last_round)
        return _split_by_keywords(context, keywords)

    return fn


def regex_loss_scale(patterns: Dict[str, float]) -> LossScaleFn:
    """Inside responses, text matching a pattern gets its weight; other response text weighs 1."""
    pattern = re.compile('|'.join(f'(?:{p})' for p in patterns), re.S)
    compiled = [(re.compile(p, re.S), w) for p, w in patterns.items()]

    def fn(context, context_type, is_last_round, **kwargs):
        if context_type != ContextType.RESPONSE or not isinstance(context, str) or not context:
            return default_loss_scale(context, context_type, is_last_round)
        contexts, weights, pos = [], [], 0
        for m in pattern.finditer(context):
            if m.start() > pos:
                contexts.append(context[pos:m.start()])
                weights.append(1.)
            contexts.append(m.group())
            weights.append(next(w for p, w in compiled if p.fullmatch(m.group())))
            pos = m.end()
        if pos < len(context):
            contexts.append(context[pos:])
            weights.append(1.)
        return contexts, weights

    return fn


def query_keyword_loss_scale(queries: Dict[str, float], keywords: Dict[str, Sequence[float]]) -> LossScaleFn:
    """AgentFLAN-style: a round whose query asks one of `queries` (e.g. 'What is the tool you want to use')
    weighs its whole response by that value; other responses split by `keywords`."""
    by_keyword = keyword_loss_scale(keywords)

    def fn(context, context_type, is_last_round, *, query=None, **kwargs):
        if context_type == ContextType.RESPONSE and isinstance(context, str) and query:
            for key, weight in queries.items():
                if key in query:
                    return [context], [weight]
        return by_keyword(context, context_type, is_last_round)

    return fn


# ms-swift react semantics: Observation text is the tool's output, not the model's, so it carries no loss.
REACT_KEYWORDS = {
    'Action:': (2., 2.),
    'Action Input:': (2., 2.),
    'Thought:': (1., 1.),
    'Final Answer:': (1., 1.),
    'Observation:': (2., 0.),
}
# Qwen-Agent's function-calling markers (tools_prompt qwen_en/qwen_zh): calls weigh 2, tool results nothing.
QWEN_KEYWORDS = {
    '✿FUNCTION✿:': (2., 2.),
    '✿ARGS✿:': (2., 2.),
    '✿RETURN✿:': (1., 1.),
    '✿RESULT✿:': (2., 0.),
}
# AgentFLAN / MSAgent dialogues ask for the tool and each argument in separate user turns: those answers weigh 3.
AGENTFLAN_QUERIES = {
    'What is the tool you want to use': 3.,
    'What are the required parameter names': 3.,
    'What is the value of': 3.,
}
AGENTFLAN_KEYWORDS = {
    'Action:': (1., 3.),
    'Action Input:': (1., 3.),
    'Thought:': (1., 1.),
    'Final Answer:': (1., 1.),
    'Observation:': (2., 0.),
}
# alpha-UMI (planner / caller / summarizer): the planner's routing line and the caller's call weigh 2.
ALPHA_UMI_KEYWORDS = {
    'Next:': (2., 2.),
    'Action:': (2., 2.),
    'Action Input:': (2., 2.),
    'Thought:': (1., 1.),
    'Final Answer:': (1., 1.),
    'Observation:': (2., 0.),
}

register_loss_scale('default', default_loss_scale)
register_loss_scale('last_round', last_round_loss_scale)
register_loss_scale('all', all_loss_scale)
register_loss_scale('react', keyword_loss_scale(REACT_KEYWORDS))
register_loss_scale('qwen', keyword_loss_scale(QWEN_KEYWORDS))
register_loss_scale('hermes', regex_loss_scale({r'<tool_call>.+?</tool_call>': 2.}))
register_loss_scale('agentflan', query_keyword_loss_scale(AGENTFLAN_QUERIES, AGENTFLAN_KEYWORDS))
register_loss_scale('alpha_umi', keyword_loss_scale(ALPHA_UMI_KEYWORDS))
