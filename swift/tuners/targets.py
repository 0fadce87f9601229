"""Which modules a tuner attaches to: 'all-linear' expansion and the parts of multimodal models."""
import re
from typing import Dict, List, Optional, Union

import torch.nn as nn
from peft.utils.constants import SEQ_CLS_HEAD_NAMES

from swift.utils import ArgumentError

# Fallback module prefixes of transformers 5 multimodal models, used when model_meta carries no model_arch.
_DEFAULT_PARTS = {
    'llm': ['model.language_model', 'language_model', 'lm_head'],
    'vit': ['model.visual', 'model.vision_tower', 'model.vision_model', 'visual', 'vision_tower', 'vision_model'],
    'aligner': ['model.visual.merger', 'model.multi_modal_projector', 'model.mm_projector', 'model.connector',
                'multi_modal_projector'],
}
_ARCH_ATTRS = {'llm': 'language_model', 'vit': 'vision_tower', 'aligner': 'aligner'}


def is_multimodal(model) -> bool:
    meta = getattr(model, 'model_meta', None)
    return bool(getattr(meta, 'is_multimodal', False))


def get_multimodal_parts(model) -> Dict[str, List[str]]:
    """{'llm'|'vit'|'aligner': module-name prefixes present in the model}.

    Read from `model.model_meta.model_arch` (attributes language_model / vision_tower / aligner, each a prefix or
    a list of prefixes) when the model family declares it, else from the usual transformers module names.
    """
    arch = getattr(getattr(model, 'model_meta', None), 'model_arch', None)
    names = {name for name, _ in model.named_modules()}
    parts = {}
    for part, candidates in _DEFAULT_PARTS.items():
        declared = getattr(arch, _ARCH_ATTRS[part], None) if arch is not None else None
        if declared:
            candidates = [declared] if isinstance(declared, str) else list(declared)
        parts[part] = [p for p in candidates if p in names]
    if not parts['llm']:
        raise ArgumentError(f'Cannot find the language model inside {type(model).__name__}; set --target_regex '
                            '(LoRA) or --freeze_parameters/--trainable_parameters (full) explicitly.')
    return parts


def part_of(name: str, parts: Dict[str, List[str]]) -> Optional[str]:
    """The part whose longest prefix matches `name` (the aligner may live inside the vision tower)."""
    best, best_len = None, -1
    for part, prefixes in parts.items():
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + '.')) and len(prefix) > best_len:
                best, best_len = part, len(prefix)
    return best


def frozen_parts(args) -> List[str]:
    return [part for part, flag in (('llm', args.freeze_llm), ('vit', args.freeze_vit),
                                    ('aligner', args.freeze_aligner)) if flag]


def _head_names(model) -> set:
    """The output layer (lm_head) and classification heads (peft trains those whole, via modules_to_save)."""
    get_out = getattr(model, 'get_output_embeddings', None)
    heads = [get_out()] if get_out is not None else []
    heads += [getattr(model, name, None) for name in SEQ_CLS_HEAD_NAMES]
    return {name for name, module in model.named_modules() if any(module is h for h in heads if h is not None)}


def find_modules(model, kind: str, parts_to_keep: Optional[List[str]] = None) -> List[str]:
    """Full names of Linear ('all-linear') or Embedding ('all-embedding') modules, without output heads; in a
    multimodal model only those inside `parts_to_keep`."""
    cls = nn.Linear if kind == 'all-linear' else nn.Embedding
    excluded = _head_names(model)
    parts = get_multimodal_parts(model) if is_multimodal(model) else None
    found = []
    for name, module in model.named_modules():
        if not isinstance(module, cls) or name in excluded:
            continue
        if parts is not None and part_of(name, parts) not in parts_to_keep:
            continue
        found.append(name)
    return found


def resolve_target_modules(args, model) -> Union[str, List[str]]:
    """peft `target_modules`: a regex (from --target_regex, or a full-name regex for all-linear/all-embedding)
    or the list of module names given by the user."""
    if args.target_regex:
        return args.target_regex
    targets = list(args.target_modules)
    special = [t for t in targets if t in ('all-linear', 'all-embedding')]
    if not special:
        return targets
    keep = [p for p in ('llm', 'vit', 'aligner') if p not in frozen_parts(args)]
    names = [n for kind in special for n in find_modules(model, kind, keep)]
    plain = [t for t in targets if t not in special]
    if not names and not plain:
        raise ArgumentError(f'--target_modules {" ".join(targets)} matched no module of {type(model).__name__}; '
                            'check --freeze_llm/--freeze_vit/--freeze_aligner or pass --target_regex.')
    leaves = _unambiguous_leaves(model, names)
    if leaves is not None:
        return sorted(set(leaves + plain))
    return _names_regex(names, plain)


def _unambiguous_leaves(model, full_names: List[str]) -> Optional[List[str]]:
    """Short names (q_proj, ...) when they select exactly `full_names`, as ms-swift writes them; else None."""
    leaves = {n.split('.')[-1] for n in full_names}
    chosen = set(full_names)
    for name, _ in model.named_modules():
        if name.split('.')[-1] in leaves and name not in chosen:
            return None
    return sorted(leaves)


def _names_regex(full_names: List[str], suffixes: List[str]) -> str:
    """Regex matching exactly these module names plus any module ending with one of `suffixes`.

    Layer indices are folded into a digit class so the saved adapter_config.json stays short.
    """
    folded = sorted({re.sub(r'\\\.\d+\\\.', r'\\.\\d+\\.', re.escape(n)) for n in full_names})
    alternatives = folded + [rf'(?:.*\.)?{re.escape(s)}' for s in suffixes]
    return '^(?:' + '|'.join(alternatives) + ')$'
