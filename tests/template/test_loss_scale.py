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


def _row(*pairs):
    messages = []
    for query, response in pairs:
        messages += [{'role': 'user', 'content': query}, {'role': 'assistant', 'content': response}]
    return {'messages': messages}


def test_every_002_loss_scale_is_registered():
    for name in ('default', 'last_round', 'all', 'react', 'agentflan', 'alpha_umi', 'qwen'):
        assert name in LOSS_SCALE_MAPPING


def test_qwen_weights_function_markers_and_masks_results(qwen_tok):
    template = get_template('qwen2_5', qwen_tok, loss_scale='qwen')
    response = '✿FUNCTION✿: search\n✿ARGS✿: {"q": "x"}\n✿RESULT✿: 5\n✿RETURN✿: It is 5.'
    by_weight = weights_by_text(template, template.encode(_row(('what is x?', response))))
    assert by_weight[2.] == '✿FUNCTION✿: search\n✿ARGS✿: {"q": "x"}\n✿RESULT✿:'
    assert by_weight[1.] == '✿RETURN✿: It is 5.<|im_end|>'
    assert ' 5\n' in by_weight[0.]


def test_hermes_weights_tool_call_blocks(qwen_tok):
    template = get_template('qwen2_5', qwen_tok, loss_scale='hermes')
    response = 'Let me check.\n<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'
    by_weight = weights_by_text(template, template.encode(_row(('q', response))))
    assert by_weight[2.] == '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'
    assert by_weight[1.] == 'Let me check.\n<|im_end|>'


def test_agentflan_weights_answers_to_tool_questions(qwen_tok):
    template = get_template('qwen2_5', qwen_tok, loss_scale='agentflan')
    row = _row(('Find the weather. What is the tool you want to use?', 'get_weather'),
               ('Thought?', 'Thought: call it\nAction: get_weather\nAction Input: {"city": "Paris"}'))
    by_weight = weights_by_text(template, template.encode(row))
    assert by_weight[3.] == 'get_weather get_weather\n {"city": "Paris"}'
    assert by_weight[1.] == '<|im_end|>Thought: call it\nAction:Action Input:<|im_end|>'


def test_alpha_umi_weights_planner_routing(qwen_tok):
    template = get_template('qwen2_5', qwen_tok, loss_scale='alpha_umi')
    response = 'Thought: I need the caller.\nNext: caller'
    by_weight = weights_by_text(template, template.encode(_row(('plan', response))))
    assert by_weight[2.] == 'Next: caller'
    assert by_weight[1.] == 'Thought: I need the caller.\n<|im_end|>'


def test_tool_call_is_supervised_and_tool_result_is_not(qwen_tok):
    template = get_template('qwen2_5', qwen_tok)
    row = {'tools': '[{"type": "function", "function": {"name": "f", "parameters": {}}}]', 'messages': [
        {'role': 'user', 'content': 'q'},
        {'role': 'assistant', 'content': '', 'tool_calls': [{'type': 'function',
                                                             'function': {'name': 'f', 'arguments': {'a': 1}}}]},
        {'role': 'tool', 'content': 'RESULT-7'}, {'role': 'assistant', 'content': 'done'}]}
    encoded = template.encode(row)
    shown = template.render_example(encoded, color=False)
    assert '[[<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call><|im_end|>]]' in shown
    assert '[[done<|im_end|>]]' in shown
    assert 'RESULT-7' in shown and '[[' not in shown.split('RESULT-7')[0].split(']]')[-1]


@pytest.mark.parametrize('flag, value, hint', [('--tools_prompt', 'glm5', 'glm4'),
                                               ('--loss_scale', 'agentflam', 'agentflan')])
def test_unknown_agent_names_fail_before_weights(flag, value, hint):
    from swift.arguments import SftArguments, parse_args
    from swift.utils import ArgumentError
    args = parse_args(SftArguments, ['--model', 'swift/tiny-qwen2', flag, value])
    with pytest.raises(ArgumentError, match=f'{flag} {value}: unknown. Did you mean: {hint}'):
        args.resolve()
    for name in ('react_en', 'react_zh', 'glm4', 'toolbench', 'qwen', 'hermes', 'llama3', 'qwen_en_parallel'):
        parse_args(SftArguments, ['--model', 'swift/tiny-qwen2', '--tools_prompt', name]).resolve()
