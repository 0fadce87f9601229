"""Loss-scale strategies: react keyword weights and user-registered strategies."""
import pytest

from swift.template import ContextType, get_template, register_loss_scale
from swift.template.loss_scale import LOSS_SCALE_MAPPING
from swift.utils import TemplateError

REACT_RESPONSE = ('Thought: look it up\nAction: search\nAction Input: {"q": "x"}\nObservation: tool says 5\n'
                  'Final Answer: 5')


def weights_by_text(template, encoded):
    """Map each distinct weight to the text of the tokens carrying it."""
    out = {}
    for token, weight in zip(encoded['input_ids'], encoded['loss_scale']):
        out.setdefault(weight, []).append(token)
    return {w: template.tokenizer.decode(ids) for w, ids in out.items()}


def test_react_weights_keywords_and_masks_observation(qwen_tok):
    template = get_template('qwen2_5', qwen_tok, loss_scale='react')
    row = {'messages': [{'role': 'user', 'content': 'what is x?'}, {'role': 'assistant', 'content': REACT_RESPONSE}]}
    encoded = template.encode(row)
    by_weight = weights_by_text(template, encoded)
    assert by_weight[2.] == 'Action: search\nAction Input: {"q": "x"}\nObservation:'
    assert ' tool says 5\n' in by_weight[0.]
    assert by_weight[1.] == 'Thought: look it up\nFinal Answer: 5<|im_end|>'
    labels = [label for label, w in zip(encoded['labels'], encoded['loss_scale']) if w == 0.]
    assert set(labels) == {-100}
    batch = template.data_collator([encoded])
    assert batch['loss_scale'].max() == 2.


def test_register_custom_loss_scale_function_and_class(qwen_tok):
    def only_suffix(context, context_type, is_last_round, **kwargs):
        return [context], [3. if context_type == ContextType.SUFFIX else 0.]

    class NoLoss:
        def get_loss_scale(self, context, context_type, is_last_round, *, query=None):
            return [context], [0.]

    register_loss_scale('test_only_suffix', only_suffix, exist_ok=True)
    register_loss_scale('test_no_loss', NoLoss, exist_ok=True)
    assert 'test_no_loss' in LOSS_SCALE_MAPPING
    row = {'messages': [{'role': 'user', 'content': 'q'}, {'role': 'assistant', 'content': 'a'}]}
    encoded = get_template('qwen2_5', qwen_tok, loss_scale='test_only_suffix').encode(row)
    assert [w for w in encoded['loss_scale'] if w] == [3.]
    assert set(get_template('qwen2_5', qwen_tok, loss_scale='test_no_loss').encode(row)['labels']) == {-100}
    with pytest.raises(TemplateError, match='Did you mean: last_round'):
        get_template('qwen2_5', qwen_tok, loss_scale='last_rund')
