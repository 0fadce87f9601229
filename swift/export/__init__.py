"""Export steps: merge adapters, quantize, GGUF, Ollama Modelfile, hub push.

`swift/pipelines/export.py` only chooses among these; each step is usable on its own.
"""
from .gguf import write_gguf
from .hub import push_to_hub
from .merge import check_mergeable, merge_adapters, save_model_dir
from .ollama import write_modelfile

__all__ = ['check_mergeable', 'merge_adapters', 'push_to_hub', 'save_model_dir', 'write_gguf', 'write_modelfile']
