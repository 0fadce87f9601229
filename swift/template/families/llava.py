"""LLaVA-1.5 (llava-hf): `llava1_5_hf`, the chat format of llava-hf/llava-1.5-*-hf's processor chat template.

"USER: <image>\\nWhat is this? ASSISTANT: answer USER: ..." -- a system prompt is written bare before the first turn,
each `<image>` tag becomes "<image>\\n" and the processor expands that token to the image's patch count.
"""
from typing import List

from ..meta import TemplateMeta
from ..multimodal import VisionTemplate
from ..register import register_template


class LlavaHfTemplate(VisionTemplate):
    """Responses follow 'ASSISTANT:' after a space that belongs to the response (as in Llama-2)."""
    image_placeholder = '<image>\n'

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        out = []
        for m in messages:
            content = m.get('content') or ''
            if m['role'] == 'assistant':
                content = ' ' + content
            out.append({**m, 'content': content})
        return out


register_template(
    TemplateMeta('llava1_5_hf', prefix=[], system_prefix=['{{SYSTEM}} '], prompt=['USER: {{QUERY}} ASSISTANT:'],
                 chat_sep=[' '], suffix=[['eos_token_id']], auto_add_bos=True, template_cls=LlavaHfTemplate))
