"""The chat panel of `swift app` and of the web-ui's infer tab: streamed answers from any InferEngine (the pt
engine in-process, or InferClient in front of an OpenAI-compatible server). The whole history goes to the engine
each turn, so the model's template renders every turn."""
import copy
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import gradio as gr

from swift.infer import AdapterRequest, InferRequest, RequestConfig
from .i18n import field_label, t

# (*values of engine_inputs) -> (engine, AdapterRequest or None); raises gr.Error when there is no engine yet
EngineGetter = Callable[..., Tuple[object, Optional[AdapterRequest]]]


def _messages(history: List[dict], system: str) -> List[dict]:
    head = [{'role': 'system', 'content': system}] if system and system.strip() else []
    return head + [{'role': m['role'], 'content': _text(m['content'])} for m in history]


def _text(content) -> str:
    """Gradio may hand back content as a list of parts; the engines take plain text."""
    if isinstance(content, list):
        return ''.join(p.get('text', '') if isinstance(p, dict) else str(p) for p in content)
    return content if isinstance(content, str) else str(content)


def stream_answer(engine, messages: List[dict], config: RequestConfig,
                  adapter_request: Optional[AdapterRequest] = None) -> Iterator[str]:
    """The answer so far, after each streamed chunk (a whole answer at once when beams rule out streaming)."""
    config = copy.copy(config)
    config.stream = config.num_beams == 1
    result = engine.infer([InferRequest(messages)], config, adapter_request=adapter_request)[0]
    if not config.stream:
        yield result.choices[0].message.content or ''
        return
    text = ''
    for chunk in result:
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            text += delta
            yield text


def _config(base: RequestConfig, temperature, top_p, max_new_tokens) -> RequestConfig:
    config = copy.copy(base)
    config.temperature = float(temperature)
    config.top_p = float(top_p)
    config.max_tokens = int(max_new_tokens) if max_new_tokens else None
    return config


def build_chat(get_engine: EngineGetter, request_config: RequestConfig, lang: str,
               default_system: Optional[str] = None, elem_prefix: str = 'chat', engine_inputs: Sequence = ()):
    """Chat components inside the current gr.Blocks."""
    chatbot = gr.Chatbot(label=t('chatbot', lang), height=420, elem_id=f'{elem_prefix}_chatbot')
    with gr.Row():
        query = gr.Textbox(label=t('query', lang), placeholder=t('query_ph', lang), scale=5, lines=1,
                           elem_id=f'{elem_prefix}_query')
        send = gr.Button(t('send', lang), variant='primary', scale=1, elem_id=f'{elem_prefix}_send')
    with gr.Row():
        regenerate = gr.Button(t('regenerate', lang), elem_id=f'{elem_prefix}_regenerate')
        clear = gr.Button(t('clear', lang), elem_id=f'{elem_prefix}_clear')
    with gr.Accordion(t('gen_settings', lang), open=True):
        system = gr.Textbox(label=t('system', lang), value=default_system or '', lines=2,
                            elem_id=f'{elem_prefix}_system')
        with gr.Row():
            temperature = gr.Slider(0, 2, value=request_config.temperature if request_config.temperature is not None
                                    else 0.3, step=0.05, label=field_label('temperature', lang))
            top_p = gr.Slider(0.05, 1, value=request_config.top_p if request_config.top_p is not None else 0.7,
                              step=0.05, label=field_label('top_p', lang))
            max_new_tokens = gr.Number(value=request_config.max_tokens or 256, precision=0, minimum=1,
                                       label=field_label('max_new_tokens', lang))
    settings = [system, temperature, top_p, max_new_tokens]

    def respond(history, system_text, temp, top, max_tokens, *engine_values):
        engine, adapter_request = get_engine(*engine_values)
        config = _config(request_config, temp, top, max_tokens)
        messages = _messages(history, system_text)
        history = history + [{'role': 'assistant', 'content': ''}]
        try:
            for text in stream_answer(engine, messages, config, adapter_request):
                history[-1] = {'role': 'assistant', 'content': text}
                yield history
        except Exception as e:  # noqa: BLE001 - a server or engine failure becomes one line in the page
            raise gr.Error(f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}') from None

    def add_query(history, text):
        if not text or not text.strip():
            raise gr.Error(t('query_ph', lang))
        return history + [{'role': 'user', 'content': text}], ''

    def drop_answer(history):
        while history and history[-1]['role'] == 'assistant':
            history = history[:-1]
        return history

    inputs = [chatbot, *settings, *engine_inputs]
    for trigger in (query.submit, send.click):
        trigger(add_query, [chatbot, query], [chatbot, query], queue=False).success(respond, inputs, chatbot)
    regenerate.click(drop_answer, chatbot, chatbot, queue=False).success(respond, inputs, chatbot)
    clear.click(lambda: [], None, chatbot, queue=False)
    return chatbot
