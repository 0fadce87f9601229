"""Built-in template families; importing a module registers its templates."""
from . import default, deepseek, glm, internlm, llama, llava, mistral, phi, qwen, qwen_vl  # noqa: F401
