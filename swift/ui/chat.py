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


def _messages(history: List[dict], system: str) -> Tuple[List[dict], List[str]]:
    """The engine's messages and images: each uploaded image becomes an `<image>` tag before its turn's text."""
    head = [{'role': 'system', 'content': system}] if system and system.strip() else []
    messages, images, joins = [], [], False
    for m in history:
        texts, files = _parts(m['content'])
        images += files
        text = '<image>' * len(files) + ''.join(texts)
        if joins and messages[-1]['role'] == m['role']:  # gradio shows each upload as its own message
            messages[-1]['content'] += text
        else:
            messages.append({'role': m['role'], 'content': text})
        joins = bool(files) and not texts
    return head + messages, images


def _parts(content) -> Tuple[List[str], List[str]]:
    """(texts, file paths) of a chat message's content: a string, a file, or gradio's list of typed parts."""
    texts, files = [], []
    for part in content if isinstance(content, (list, tuple)) else [content]:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get('type', 'text') == 'text' and 'text' in part:
            texts.append(part['text'])
        elif isinstance(part, dict) and ('path' in part or 'file' in part):
            files.append((part.get('file') or part)['path'])
        elif part is not None:
            texts.append(str(part))
    return texts, files


def stream_answer(engine, messages: List[dict], config: RequestConfig,
                  adapter_request: Optional[AdapterRequest] = None, images: Sequence = ()) -> Iterator[str]:
    """The answer so far, after each streamed chunk (a whole answer at once when beams rule out streaming)."""
    config = copy.copy(config)
    config.stream = config.num_beams == 1
    request = InferRequest(messages, images=list(images))
    result = engine.infer([request], config, adapter_request=adapter_request)[0]
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
               default_system: Optional[str] = None, elem_prefix: str = 'chat', engine_inputs: Sequence = (),
               images: bool = False):
    """Chat components inside the current gr.Blocks; `images`: the query box also takes image uploads."""
    chatbot = gr.Chatbot(label=t('chatbot', lang), height=420, elem_id=f'{elem_prefix}_chatbot')
    with gr.Row():
        box = gr.MultimodalTextbox if images else gr.Textbox
        extra = dict(file_types=['image'], file_count='multiple', sources=['upload']) if images else dict(lines=1)
        query = box(label=t('query', lang), placeholder=t('query_ph', lang), scale=5, elem_id=f'{elem_prefix}_query',
                    **extra)
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
        messages, image_paths = _messages(history, system_text)
        history = history + [{'role': 'assistant', 'content': ''}]
        try:
            for text in stream_answer(engine, messages, config, adapter_request, image_paths):
                history[-1] = {'role': 'assistant', 'content': text}
                yield history
        except Exception as e:  # noqa: BLE001 - a server or engine failure becomes one line in the page
            raise gr.Error(f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}') from None

    def add_query(history, value):
        text, files = (value.get('text') or '', value.get('files') or []) if isinstance(value, dict) else (value, [])
        if not files and (not text or not text.strip()):
            raise gr.Error(t('query_ph', lang))
        turn = [{'role': 'user', 'content': {'path': f if isinstance(f, str) else f['path']}} for f in files]
        turn += [{'role': 'user', 'content': text}] if text and text.strip() else []
        return history + turn, None

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
