"""Built-in model families; importing this package registers them (one file per family)."""
from . import deepseek, gemma, glm, internlm, llama, llava, mistral, phi, qwen, qwen_vl, tiny, yi
