"""Tiny random-weight models that need no hub: `swift/tiny-qwen2`, `swift/tiny-llama` and the vision-language
`swift/tiny-qwen2-vl` / `swift/tiny-qwen2_5-vl` (tiny_vl.py).

They share one byte-level BPE tokenizer (trained by scripts/train_tiny_tokenizer.py, shipped in tiny_assets/)
and carry their family's official chat template, so every pipeline runs end to end on CPU in seconds.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from contextlib import contextmanager
from typing import Any, Dict, Optional

import torch

from swift.utils import get_cache_dir

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tiny_assets')
TOKENIZER_FILE = os.path.join(ASSETS_DIR, 'tokenizer.json')
# Bump when the way the directory is written changes, so old caches are not reused.
FORMAT_VERSION = 1
INIT_STD = 0.02

# Sizes for the tiny models: one CPU training step well under 0.1 s, still able to memorise ~100 rows.
TINY_CONFIG: Dict[str, Any] = {
    'hidden_size': 128,
    'intermediate_size': 384,
    'num_hidden_layers': 4,
    'num_attention_heads': 4,
    'num_key_value_heads': 2,
    'tie_word_embeddings': True,
    'max_position_embeddings': 2048,
    'rms_norm_eps': 1e-6,
    'rope_theta': 10000.0,
}

# Per architecture: transformers classes, special tokens and chat template of the family.
ARCHS: Dict[str, Dict[str, Any]] = {
    'qwen2': {
        'model_type': 'qwen2',
        'architectures': ['Qwen2ForCausalLM'],
        'chat_template': 'qwen2_5.jinja',
        'bos_token': None,
        'eos_token': '<|im_end|>',
        'pad_token': '<|endoftext|>',
        'stop_tokens': ['<|im_end|>', '<|endoftext|>'],
        'config_bos': '<|endoftext|>',
    },
    'llama': {
        'model_type': 'llama',
        'architectures': ['LlamaForCausalLM'],
        'chat_template': 'llama3.jinja',
        'bos_token': '<|begin_of_text|>',
        'eos_token': '<|eot_id|>',
        'pad_token': '<|end_of_text|>',
        'stop_tokens': ['<|eot_id|>', '<|end_of_text|>'],
        'config_bos': '<|begin_of_text|>',
    },
}
# The VL models: the qwen2 tokenizer plus vision tokens, the official Qwen2-VL chat template (tiny_vl.py).
for _vl in ('qwen2_vl', 'qwen2_5_vl'):
    ARCHS[_vl] = {**ARCHS['qwen2'], 'model_type': _vl, 'chat_template': 'qwen2_vl.jinja', 'vision': True}

TINY_MODELS: Dict[str, str] = {'swift/tiny-qwen2': 'qwen2', 'swift/tiny-llama': 'llama',
                               'swift/tiny-qwen2-vl': 'qwen2_vl', 'swift/tiny-qwen2_5-vl': 'qwen2_5_vl',
                               'swift/tiny-llava': 'llava'}
# LLaVA: the tiny Llama (sizes, tokenizer) under a CLIP tower, built by tiny_llava.py.
LLAVA_ARCHS: Dict[str, str] = {'llava': 'llama'}


def _arch_of(name_or_arch: str) -> str:
    from swift.utils import ModelError, did_you_mean
    arch = TINY_MODELS.get(name_or_arch, name_or_arch)
    if arch not in ARCHS and arch not in LLAVA_ARCHS:
        raise ModelError(f'Unknown tiny model {name_or_arch!r}.{did_you_mean(name_or_arch, TINY_MODELS)} '
                         f'Choose one of: {", ".join(TINY_MODELS)}.')
    return arch


def _read_asset(filename: str) -> str:
    with open(os.path.join(ASSETS_DIR, filename), encoding='utf-8') as f:
        return f.read()


def load_tiny_tokenizer(name: str = 'swift/tiny-qwen2'):
    """The shipped tokenizer with the family's bos/eos/pad and official chat template (no files written)."""
    from tokenizers import Tokenizer
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast
    spec = ARCHS[_arch_of(name)]
    backend = Tokenizer.from_file(TOKENIZER_FILE)
    bos = spec['bos_token']
    if bos is not None:  # Llama 3 prepends <|begin_of_text|> whenever special tokens are added.
        bos_id = backend.token_to_id(bos)
        backend.post_processor = TemplateProcessing(single=f'{bos} $A', pair=f'{bos} $A {bos} $B',
                                                    special_tokens=[(bos, bos_id)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=bos, eos_token=spec['eos_token'],
                                        pad_token=spec['pad_token'], chat_template=_read_asset(spec['chat_template']),
                                        model_max_length=TINY_CONFIG['max_position_embeddings'])
    if spec.get('vision'):
        from .tiny_vl import add_vision_tokens
        add_vision_tokens(tokenizer, tokenizer.chat_template)
    return tokenizer


def build_config(arch: str = 'qwen2', tokenizer=None, **overrides):
    """A transformers config for `arch` sized by TINY_CONFIG (+ overrides), with the tokenizer's special ids."""
    from transformers import AutoConfig
    spec = ARCHS[_arch_of(arch)]
    tokenizer = tokenizer or load_tiny_tokenizer(arch)
    kwargs = {**TINY_CONFIG, **overrides}
    kwargs.setdefault('vocab_size', len(tokenizer))
    kwargs.update(architectures=spec['architectures'], dtype='float32',
                  bos_token_id=tokenizer.convert_tokens_to_ids(spec['config_bos']),
                  eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return AutoConfig.for_model(spec['model_type'], **kwargs)


@torch.no_grad()
def _init_weights(model) -> None:
    """Seeded per parameter name, so weights do not depend on library init code or module order."""
    for name, param in model.named_parameters():
        if param.dim() == 1:
            param.fill_(1.0 if 'norm' in name else 0.0)
            continue
        gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        param.copy_(torch.randn(param.shape, generator=gen, dtype=torch.float32) * INIT_STD)


def make_model_dir(path: str, arch: str = 'qwen2', **config_overrides) -> str:
    """Write a random-weight model of `arch` (sizes from TINY_CONFIG + overrides) with tokenizer into `path`."""
    from transformers import AutoModelForCausalLM, GenerationConfig
    arch = _arch_of(arch)
    if arch in LLAVA_ARCHS:
        from .tiny_llava import make_dir
        return make_dir(path, build_config(LLAVA_ARCHS[arch], **config_overrides))
    spec = ARCHS[arch]
    tokenizer = load_tiny_tokenizer(arch)
    if spec.get('vision'):
        from .tiny_vl import make_vl_model_dir
        os.makedirs(path, exist_ok=True)
        make_vl_model_dir(path, arch, tokenizer, {**TINY_CONFIG, **config_overrides}, _init_weights)
        return path
    config = build_config(arch, tokenizer, **config_overrides)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    _init_weights(model)
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    stop_ids = [tokenizer.convert_tokens_to_ids(t) for t in spec['stop_tokens']]
    GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=stop_ids,
                     pad_token_id=tokenizer.pad_token_id).save_pretrained(path)
    return path


def tiny_model_hash(name: str) -> str:
    """Short hash of everything that determines the tiny model's files."""
    arch = _arch_of(name)
    digest = hashlib.sha256()
    payload = {'v': FORMAT_VERSION, 'arch': arch, 'config': TINY_CONFIG, 'std': INIT_STD}
    files = ['tokenizer.json', ARCHS[LLAVA_ARCHS.get(arch, arch)]['chat_template']]
    if arch in LLAVA_ARCHS:  # the builder module holds the vision sizes and the chat template
        files.append(os.path.join('..', 'tiny_llava.py'))
    elif ARCHS[arch].get('vision'):
        from . import tiny_vl
        payload.update(vision=tiny_vl.VL_ARCHS[arch], tower=tiny_vl.TINY_VISION, tokens=tiny_vl.VISION_TOKENS,
                       pixels=[tiny_vl.TINY_MIN_PIXELS, tiny_vl.TINY_MAX_PIXELS])
    digest.update(json.dumps(payload, sort_keys=True).encode())
    for filename in files:
        with open(os.path.join(ASSETS_DIR, filename), 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()[:10]


def get_tiny_model_dir(name: str = 'swift/tiny-qwen2', cache_dir: Optional[str] = None) -> str:
    """Materialise the tiny model once into <cache>/tiny/<name>-<hash> (atomic) and return that directory."""
    arch = _arch_of(name)
    short_name = name.split('/')[-1] if name in TINY_MODELS else f'tiny-{arch}'
    root = os.path.join(cache_dir or get_cache_dir(), 'tiny')
    target = os.path.join(root, f'{short_name}-{tiny_model_hash(arch)}')
    if os.path.isfile(os.path.join(target, 'config.json')):
        return target
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, '.build.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time (ranks, test workers): the others then find it
        if os.path.isfile(os.path.join(target, 'config.json')):
            return target
        tmp = tempfile.mkdtemp(prefix=f'.{short_name}-', dir=root)
        try:
            _build(tmp, arch)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build(path: str, arch: str) -> None:
    """make_model_dir, in a fresh process when this one is in a torch.distributed process group: transformers'
    save_pretrained writes files only on rank 0 of an initialized group, so rank 1 would build an empty model."""
    dist = sys.modules.get('torch.distributed')
    if dist is None or not dist.is_available() or not dist.is_initialized():
        with _outside_zero3():
            make_model_dir(path, arch)
        return
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get('PYTHONPATH')])))
    code = 'import sys; from swift.model.tiny import make_model_dir; make_model_dir(sys.argv[1], sys.argv[2])'
    subprocess.run([sys.executable, '-c', code, path, arch], check=True, env=env)


@contextmanager
def _outside_zero3():
    """A ZeRO-3 run may be the first to ask for a built-in model: its zero.Init (live while the trainer's arguments
    are) would partition the new model's weights and save them empty, so the model is built outside it."""
    from transformers.integrations import deepspeed as hf_deepspeed
    ref = hf_deepspeed._hf_deepspeed_config_weak_ref
    config = ref() if ref is not None else None
    if config is None:
        yield
        return
    hf_deepspeed.unset_hf_deepspeed_config()
    try:
        yield
    finally:
        hf_deepspeed.set_hf_deepspeed_config(config)


def tiny_model_name(model_dir: str) -> Optional[str]:
    """'swift/tiny-qwen2' when `model_dir` is a directory materialised by get_tiny_model_dir, else None."""
    base = os.path.basename(os.path.normpath(model_dir))
    for name in TINY_MODELS:
        if base == f'{name.split("/")[-1]}-{tiny_model_hash(name)}':
            return name
    return None
