"""Template: the only code that turns canonical messages into tokens (training, inference, every engine)."""
import os
import sys
from typing import Any, Dict, List, Optional, Tuple, Union

from swift.utils import TemplateError, get_logger, pad_token_id

from .collator import pad_batch
from .constant import ContextType
from .loss_scale import all_loss_scale, get_loss_scale
from .render import Runs, cut_runs, fill, labels_of, merge, to_text, token_values, tokenize, tokenize_batch
from .tools import forced_call_prefix, format_tools, get_agent_format, load_calls, parse_tools
from .turns import Round, split_messages

logger = get_logger()

MODES = ('train', 'infer', 'pt')
TEXT_FORMATS = ('react', 'qwen')  # agent formats whose tool results are text in a user turn (Observation: ...)
TRUNCATION_STRATEGIES = ('delete', 'left', 'right')


class MaxLengthError(TemplateError):
    """The encoded row is longer than max_length and truncation_strategy is 'delete'."""


def load_system(value: Optional[str]) -> Optional[str]:
    """--system accepts the text itself or a path to a .txt file holding it."""
    if value is None or not value.endswith('.txt') or any(c.isspace() for c in value):
        return value
    if not os.path.isfile(value):
        raise TemplateError(f'System prompt file {value!r} does not exist; give an existing .txt path or the text.')
    with open(value, encoding='utf-8') as f:
        return f.read()


class Template:
    """Encode rows with a TemplateMeta. Subclasses adapt families through the small `_preprocess_messages`,
    `_conversation`, `_resolve_system` and `_format_tool_results` hooks."""

    def __init__(self, tokenizer, template_meta, default_system: Optional[str] = None,
                 max_length: Optional[int] = None, *, truncation_strategy: str = 'delete',
                 loss_scale: str = 'default', use_chat_template: bool = True, padding_side: str = 'right',
                 template_backend: str = 'swift', tools_prompt: Optional[str] = None, max_pixels: Optional[int] = None,
                 enable_thinking: Optional[bool] = None):
        _check_choice('truncation_strategy', truncation_strategy, TRUNCATION_STRATEGIES)
        _check_choice('padding_side', padding_side, ('left', 'right'))
        _check_choice('template_backend', template_backend, ('swift', 'jinja'))
        self.tokenizer = self.processor = tokenizer
        self.template_meta = template_meta
        self.user_system = load_system(default_system)
        if self.user_system is not None and not self._accepts_system():
            raise TemplateError(f'Template {template_meta.template_type!r} has no system prompt; drop --system.')
        meta_system = template_meta.default_system or None
        self.default_system = self.user_system if self.user_system is not None else meta_system
        self.max_length = max_length
        self.max_pixels = max_pixels  # --max_pixels, applied by multimodal templates (multimodal.py)
        self.enable_thinking = enable_thinking  # None: the template's default (thinking on)
        self.truncation_strategy = truncation_strategy
        self.loss_scale = loss_scale
        self._loss_scale_fn = get_loss_scale(loss_scale)
        self.use_chat_template = use_chat_template
        self.padding_side = padding_side
        self.template_backend = template_backend
        self.tools_prompt = tools_prompt or template_meta.default_tools_prompt
        self.agent_format = get_agent_format(self.tools_prompt)
        self._generate_meta = template_meta.to_generate_meta()
        self.mode = 'train'
        self._bos_head = None
        if enable_thinking is not None and not self._has_thinking_switch():
            self._check_fixed_thinking(enable_thinking)

    # ----- modes -----
    def set_mode(self, mode: str) -> None:
        _check_choice('mode', mode, MODES)
        self.mode = mode

    def _is_chat(self, mode: str) -> bool:
        return self.use_chat_template and mode != 'pt'

    def _has_thinking_switch(self) -> bool:
        if not self.use_chat_template:
            return False
        if self.template_backend == 'jinja':  # the tokenizer's chat template renders the prompt
            from .jinja_backend import has_thinking_switch
            return has_thinking_switch(self.tokenizer)
        return bool(self.template_meta.non_thinking_prefix)

    def _check_fixed_thinking(self, enable_thinking: bool) -> None:
        """A template without a switch either always thinks (DeepSeek-R1) or never does (Qwen2.5): the flag is
        satisfied as it is (ms-swift lines pass `--enable_thinking false` for Qwen2.5) or refused."""
        name = self.template_meta.template_type
        if self.template_backend == 'jinja':
            thinks = '<think>' in (getattr(self.tokenizer, 'chat_template', None) or '')
        else:
            thinks = '<think>' in self.template_meta.response_prefix
        if thinks != enable_thinking:
            raise TemplateError(f'--enable_thinking {str(enable_thinking).lower()}: template {name!r} has no thinking '
                                f'switch and {"always" if thinks else "never"} thinks (qwen3 has one); drop the flag.')
        logger.info(f'--enable_thinking {str(enable_thinking).lower()}: template {name!r} '
                    f'{"always" if thinks else "never"} thinks, so the flag changes nothing.')

    def _response_prefix(self, meta, after_tool: bool) -> str:
        """What the generation prompt ends with: the official template's, per --enable_thinking."""
        if self.enable_thinking is False and meta.non_thinking_prefix:
            return meta.non_thinking_prefix  # Qwen3 writes it after tool results too
        return '' if after_tool else meta.response_prefix  # not after tool outputs (DeepSeek-R1)

    def _accepts_system(self) -> bool:
        return self.template_meta.support_system

    # ----- hooks for families -----
    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return messages

    def _media_messages(self, row: Dict[str, Any], messages: List[dict]) -> List[dict]:
        """Multimodal templates place the row's images/videos here (multimodal.py); a text template refuses them."""
        if row.get('images') or row.get('videos'):
            raise TemplateError(f'Template {self.template_meta.template_type!r} is text-only but the row has images '
                                'or videos; train a multimodal model (e.g. --model swift/tiny-qwen2-vl).')
        return messages

    def _encode_media(self, row: Dict[str, Any], input_ids: List[int], runs: Runs):
        """(input_ids, runs, extra encoded keys) after the media of the row are expanded; none here."""
        return input_ids, runs, {}

    def _resolve_system(self, system: Optional[str], tools) -> Optional[str]:
        """Row system > --system > TemplateMeta.default_system; tools are rendered into it."""
        if system is None:
            system = self.default_system
        return format_tools(tools, system, self.tools_prompt)

    def _format_tool_results(self, results: List[str]) -> str:
        return '\n'.join(results)

    def _tool_query(self, r: Round) -> str:
        return self._format_tool_results(r.tool_results)

    def _render_calls(self, messages: List[dict]) -> List[dict]:
        """Assistant messages with structured tool_calls get them written into their content in the agent
        format (so the call is supervised like any response text)."""
        out = []
        for m in messages:
            calls = load_calls(m.get('tool_calls')) if m.get('role') == 'assistant' else []
            if calls:
                text = self.agent_format.calls(m.get('content') or '', calls)
                m = {**m, 'content': text, 'tool_calls': None, 'calls_only': not m.get('content')}
            out.append(m)
        return out

    def _conversation(self, row: Dict[str, Any], mode: str) -> Tuple[Optional[str], List[Round]]:
        training, chat = mode != 'infer', self._is_chat(mode)
        messages = self._media_messages(row, list(_messages(row)))
        if chat:
            messages = self._preprocess_messages(self._render_calls(messages), training)
        system, rounds = split_messages(messages)
        if not training and rounds and rounds[-1].response is not None and not row.get('continue_final_message'):
            rounds[-1].response = None  # the reference answer of an eval row is not part of the prompt
        if training and (not rounds or rounds[-1].response is None):
            raise TemplateError('A training row must end with an assistant message.')
        if chat:
            system = self._resolve_system(system, row.get('tools'))
        return system, rounds

    # ----- rendering -----
    def _contexts(self, meta, system: Optional[str], rounds: List[Round], open_end: bool = False) -> List[tuple]:
        """(content, context_type, is_last_round, query) for every piece of the conversation, in order.
        open_end: the last response is a prefix the model continues (no end-of-turn after it)."""
        tok, base = self.tokenizer, token_values(self.tokenizer)
        prefix = meta.system_prefix if system is not None else meta.prefix
        out = [(c, ContextType.OTHER, False, None) for c in fill(prefix, {**base, 'SYSTEM': system or ''}, tok)]
        sep_suffix, sep_rest = meta.split_chat_sep()
        for i, r in enumerate(rounds):
            last = i == len(rounds) - 1
            prompt, query = meta.prompt, r.query or ''
            if r.query_role == 'tool':
                prompt, query = meta.tool_prompt, self._tool_query(r)
                if prompt is None or self.agent_format.parser in TEXT_FORMATS:  # an observation as a user turn
                    query = '\n'.join(r.tool_results)
                    prompt, query = meta.prompt, f'{self.agent_format.observation}{query}'
            values = {**base, 'QUERY': query, 'ROUND0': str(i), 'ROUND1': str(i + 1)}
            out += [(c, ContextType.OTHER, last, query) for c in fill(prompt, values, tok)]
            if r.response is None:
                after_tool = r.query_role == 'tool' and meta.tool_prompt is not None
                out.append((self._response_prefix(meta, after_tool), ContextType.OTHER, last, query))
                break
            out.append((r.response, ContextType.RESPONSE, last, query))
            if last and open_end:
                break
            ends = [(meta.suffix, ContextType.SUFFIX), (meta.final_layout(), ContextType.OTHER)] if last else [
                (sep_suffix, ContextType.SUFFIX), (sep_rest, ContextType.OTHER)]
            for part, ctype in ends:
                out += [(c, ctype, last, query) for c in fill(part, base, tok)]
        return out

    def _pieces(self, row: Dict[str, Any], mode: str) -> List[tuple]:
        """(content, weight) pieces after the loss-scale strategy, neighbouring strings merged."""
        if self.template_backend == 'jinja':
            from .jinja_backend import render_infer_text
            return [(render_infer_text(self, row, mode), 0.)]
        chat = self._is_chat(mode)
        meta = self.template_meta if chat else self._generate_meta
        system, rounds = self._conversation(row, mode)
        if system is not None and not meta.support_system:
            raise TemplateError(f'Template {meta.template_type!r} does not support a system message; remove it '
                                'from the data or pick another --template.')
        if len(rounds) > 1 and not meta.support_multi_round:
            raise TemplateError(f'Template {meta.template_type!r} is single-turn but the row has {len(rounds)} '
                                'rounds; pick a chat --template.')
        loss_fn = self._loss_scale_fn if chat else all_loss_scale
        pieces = []
        open_end = mode == 'infer' and bool(row.get('continue_final_message'))
        for content, ctype, last, query in self._contexts(meta, system, rounds, open_end):
            if mode == 'infer':
                pieces.append((content, 0.))
                continue
            contexts, weights = loss_fn(content, ctype, last, query=query)
            pieces += list(zip(contexts, weights))
        if mode == 'infer' and chat:
            pieces.append((self.tool_prefill(row), 0.))
        return merge(pieces)

    def tool_prefill(self, row: Dict[str, Any]) -> str:
        """The start of a forced tool call (row['tool_choice'] 'required' or a named function) that the prompt
        ends with; engines parse the output with it in front."""
        if not parse_tools(row.get('tools')):
            return ''
        return forced_call_prefix(self.agent_format.parser, row.get('tool_choice'))

    def render_text(self, row: Dict[str, Any], mode: Optional[str] = None) -> str:
        """The text the model sees (for inference: the prompt up to the generation prompt)."""
        mode = mode or self.mode
        return to_text(self._pieces(row, mode), self.tokenizer)

    # ----- encoding -----
    def encode(self, row: Dict[str, Any], mode: Optional[str] = None) -> Dict[str, Any]:
        mode = mode or self.mode
        _check_choice('mode', mode, MODES)
        input_ids, runs, extra = self._encode_media(row, *tokenize(self._pieces(row, mode), self.tokenizer))
        return self._finish(input_ids, runs, mode, extra)

    def encode_batch(self, rows: List[Dict[str, Any]],
                     mode: Optional[str] = None) -> List[Union[Dict[str, Any], TemplateError]]:
        """`encode` of each row with one batched tokenizer call (same tokens); a row the template cannot use
        gives its TemplateError in its place."""
        mode = mode or self.mode
        _check_choice('mode', mode, MODES)
        pieces: List[Any] = []
        rows = list(rows)
        for row in rows:
            try:
                pieces.append(self._pieces(row, mode))
            except TemplateError as error:
                pieces.append(error)
        tokenized = iter(tokenize_batch([p for p in pieces if not isinstance(p, TemplateError)], self.tokenizer))
        out = []
        for row, p in zip(rows, pieces):
            try:
                if isinstance(p, TemplateError):
                    out.append(p)
                    continue
                input_ids, runs, extra = self._encode_media(row, *next(tokenized))
                out.append(self._finish(input_ids, runs, mode, extra))
            except TemplateError as error:
                out.append(error)
        return out

    def _finish(self, input_ids: List[int], runs: Runs, mode: str,
                extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """bos, truncation and labels of a tokenized row (`runs`: its per-token weights, run-length coded;
        `extra`: media keys from _encode_media)."""
        extra = extra or {}
        if self.template_meta.auto_add_bos:
            n = len(input_ids)
            input_ids, runs = self._add_bos(input_ids, runs)
            if 'mm_token_type_ids' in extra and len(input_ids) != n:
                extra['mm_token_type_ids'] = [0] * (len(input_ids) - n) + list(extra['mm_token_type_ids'])
        if extra and self.max_length is not None and len(input_ids) > self.max_length:
            raise MaxLengthError(f'Encoded length {len(input_ids)} (with image tokens) exceeds max_length '
                                 f'{self.max_length}; a row with images is never truncated: raise --max_length or '
                                 'lower --max_pixels / MAX_PIXELS.')
        input_ids, runs = self._truncate(input_ids, runs)
        encoded = {'input_ids': input_ids, 'length': len(input_ids), **extra}
        if mode != 'infer':
            encoded['labels'] = labels_of(input_ids, runs)
            binary = all(w in (0., 1.) for _, w in runs)
            encoded['loss_scale'] = None if binary else [w for count, w in runs for _ in range(count)]
        return encoded

    def _add_bos(self, input_ids: List[int], runs: Runs):
        """Prepend what the tokenizer itself adds in front of text (its bos), unless already there."""
        if self._bos_head is None:
            self._bos_head = self.tokenizer('', add_special_tokens=True)['input_ids']
        head = self._bos_head
        if not head or input_ids[:len(head)] == head:
            return input_ids, runs
        return head + input_ids, [(len(head), 0.)] + runs

    def _truncate(self, input_ids: List[int], runs: Runs):
        n, limit = len(input_ids), self.max_length
        if limit is None or n <= limit:
            return input_ids, runs
        if self.truncation_strategy == 'delete':
            raise MaxLengthError(f'Encoded length {n} exceeds max_length {limit}; raise --max_length or set '
                                 '--truncation_strategy left/right.')
        if self.truncation_strategy == 'left':
            return input_ids[-limit:], cut_runs(runs, n - limit, n)
        return input_ids[:limit], cut_runs(runs, 0, limit)

    def data_collator(self, batch: List[Dict[str, Any]], padding_to: Optional[int] = None) -> Dict[str, Any]:
        """Pad to the longest row: right in training (or `padding_side`), left for inference."""
        side = 'left' if self.mode == 'infer' else self.padding_side
        return pad_batch(batch, pad_token_id(self.tokenizer), side, padding_to)

    # ----- outputs -----
    def decode(self, ids: List[int], skip_special_tokens: bool = True, **kwargs) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens, **kwargs)

    @property
    def stop_words(self) -> List[str]:
        meta = self.template_meta if self.use_chat_template else self._generate_meta
        words = [c if isinstance(c, str) else self.tokenizer.decode(c)
                 for c in fill(meta.suffix, token_values(self.tokenizer), self.tokenizer)]
        words += meta.stop_words
        if self.tokenizer.eos_token:
            words.append(self.tokenizer.eos_token)
        return list(dict.fromkeys(w.strip() for w in words if w.strip()))  # a bare ' ' would stop at once

    def render_example(self, encoded: Dict[str, Any], color: Optional[bool] = None) -> str:
        """Decoded text with the tokens that carry loss highlighted (ANSI green on a tty, else [[...]])."""
        color = sys.stdout.isatty() if color is None else color
        open_, close = ('\033[32m', '\033[0m') if color else ('[[', ']]')
        ids, labels = encoded['input_ids'], encoded.get('labels') or [-100] * len(encoded['input_ids'])
        out, start = [], 0
        for i in range(1, len(ids) + 1):
            if i == len(ids) or (labels[i] != -100) != (labels[start] != -100):
                text = self.tokenizer.decode(ids[start:i])
                out.append(f'{open_}{text}{close}' if labels[start] != -100 else text)
                start = i
        return ''.join(out)


def _messages(row) -> List[dict]:
    if isinstance(row, dict) and 'messages' in row:
        return row['messages']
    raise TemplateError(f'A row must be a dict with a "messages" list, got keys {sorted(row)[:5]}.'
                        if isinstance(row, dict) else f'A row must be a dict, got {type(row).__name__}.')


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise TemplateError(f'{name} must be one of {", ".join(choices)}; got {value!r}.')
