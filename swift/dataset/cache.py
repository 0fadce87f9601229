"""Encoded-dataset caches: encode once, train many times, never on stale tokens.

A cache directory holds `train/` (and `val/`) written by `datasets.save_to_disk` plus `manifest.json`, the record
of what produced the tokens. Its `key` part holds every input that changes a token (data, template, tokenizer,
max_length, ...); a cache is used only when that part equals the run's. Directories appear complete or not at
all (written into a unique hidden sibling, then renamed), so concurrent runs never read half a cache.
"""
import dataclasses
import datetime as dt
import hashlib
import inspect
import json
import os
import shutil
import tempfile
from array import array
from typing import Any, Callable, Dict, List, Optional, Tuple

import datasets as hf_datasets

from swift.utils import DatasetError, get_cache_dir, get_logger
from swift.version import __version__

from .encode import EncodeStats

logger = get_logger()
FORMAT = 'swift-encoded-dataset/1'
MANIFEST = 'manifest.json'
SPLITS = ('train', 'val')
# manifest key field -> the flag that sets it (for the refusal's fix)
FLAGS = {'encoding': None, 'template': '--template', 'template_hash': '--template', 'system': '--system',
         'tools_prompt': '--tools_prompt', 'use_chat_template': '--use_chat_template', 'loss_scale': '--loss_scale',
         'max_length': '--max_length', 'truncation_strategy': '--truncation_strategy', 'tokenizer_hash': '--model',
         'enable_thinking': '--enable_thinking', 'code_hash': None, 'data': '--dataset'}
_CODE_DIRS = ('template',)  # the code that turns rows into tokens (plus dataset/encode.py)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def tokenizer_hash(tokenizer) -> str:
    """Vocabulary, merges, added tokens, normalizer and post-processor (tokenizers' JSON), special tokens and the
    chat template."""
    backend = getattr(tokenizer, 'backend_tokenizer', None)
    body = backend.to_str() if backend is not None else json.dumps(sorted(tokenizer.get_vocab().items()))
    special = {k: str(getattr(tokenizer, k, None)) for k in ('bos_token', 'eos_token', 'pad_token', 'unk_token')}
    return _sha(json.dumps([body, special, str(getattr(tokenizer, 'chat_template', None))]))


def _code_hash() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, 'encode.py')]
    for name in _CODE_DIRS:
        for root, _, files in os.walk(os.path.join(os.path.dirname(here), name)):
            paths += [os.path.join(root, f) for f in files if f.endswith('.py')]
    digest = hashlib.sha256()
    for path in sorted(paths):
        with open(path, 'rb') as f:
            digest.update(os.path.relpath(path, here).encode() + b'\0' + f.read())
    return digest.hexdigest()


def template_hash(template) -> str:
    """The template's definition: its TemplateMeta (prompts, separators, suffix, stop words, ...) and the source of
    its class (family hooks)."""
    meta = template.template_meta
    values = {f.name: getattr(meta, f.name) for f in dataclasses.fields(meta)}
    cls = type(template)
    values['template_cls'] = f'{cls.__module__}.{cls.__qualname__}'
    return _sha(repr(sorted(values.items())) + ''.join(_source(k) for k in cls.__mro__ if k is not object))


def _source(cls) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):  # a class made at run time: its name stands for it
        return f'{cls.__module__}.{cls.__qualname__}'


def encoding_key(template, encoding: str) -> Dict[str, Any]:
    """Everything besides the data that decides the encoded rows. `encoding` names the row encoder: 'sft',
    'generation' (--predict_with_generate validation rows) or 'rlhf:<rlhf_type>'."""
    return {
        'encoding': encoding, 'template': template.template_meta.template_type,
        'template_hash': template_hash(template), 'system': template.default_system,
        'tools_prompt': template.tools_prompt, 'use_chat_template': template.use_chat_template,
        'loss_scale': template.loss_scale, 'max_length': template.max_length,
        'truncation_strategy': template.truncation_strategy, 'enable_thinking': template.enable_thinking,
        'tokenizer_hash': tokenizer_hash(template.tokenizer),
        'code_hash': _code_hash(),
    }


def rows_hash(*parts) -> str:
    """Content hash of canonical-row datasets (None parts count too): files, sampling, splits, --columns and
    self-cognition names all end up in these rows. The rows' ORIGIN (ids of this process) is left out."""
    import pyarrow as pa
    from .report import ORIGIN
    digest = hashlib.sha256()
    for part in parts:
        digest.update(b'\0part')
        if part is None:
            continue
        if ORIGIN in (part.column_names or ()):
            part = part.remove_columns(ORIGIN)
        for table in part.with_format('arrow').iter(batch_size=8192):
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table.combine_chunks())
            digest.update(sink.getvalue())
    return digest.hexdigest()


def _file_sha(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def data_sources(entries: List[str]) -> List[Dict[str, Any]]:
    """For the record: each --dataset entry's local files with their sha256, or its hub id and revision."""
    from .meta import get_dataset_meta
    from .syntax import DatasetSyntax
    out = []
    for entry in entries:
        name = DatasetSyntax.parse(entry).dataset
        meta = get_dataset_meta(name)
        path = name if os.path.exists(name) else (meta.dataset_path if meta else None)
        if path and os.path.exists(path):
            files = [path] if os.path.isfile(path) else sorted(
                os.path.join(root, f) for root, _, names in os.walk(path) for f in names)
            out.append({'dataset': entry, 'files': {os.path.abspath(f): _file_sha(f) for f in files}})
        else:
            out.append({'dataset': entry, 'hub_id': getattr(meta, 'ms_dataset_id', None) or name,
                        'revision': getattr(meta, 'ms_revision', None) or getattr(meta, 'hf_revision', None)})
    return out


def build_manifest(key: Dict[str, Any], record: Dict[str, Any]) -> Dict[str, Any]:
    return {'format': FORMAT, 'swift_version': __version__, 'created': dt.datetime.now().isoformat(timespec='seconds'),
            'key': key, **record}


def read_manifest(path: str) -> Optional[Dict[str, Any]]:
    """The manifest of a cache directory, None when `path` holds no cache."""
    file = os.path.join(path, MANIFEST)
    if not os.path.isfile(file):
        return None
    try:
        with open(file, encoding='utf-8') as f:
            manifest = json.load(f)
    except json.JSONDecodeError as error:
        raise DatasetError(f'{file} is not valid JSON ({error}): delete {path} and re-create the cache.') from None
    if manifest.get('format') != FORMAT:
        raise DatasetError(f'{path} is no swift encoded-dataset cache (format {manifest.get("format")!r}, expected '
                           f'{FORMAT!r}): re-create it with `swift export --to_cached_dataset true`.')
    return manifest


def mismatch(cached: Dict[str, Any], run: Dict[str, Any], fields=None) -> Optional[str]:
    """The first key field (of `fields`, default all of the run's) whose value differs, said in one line with the
    flag that sets it; None when all agree."""
    for name in fields or run:
        old, new = cached.get(name), run.get(name)
        if old == new:
            continue
        flag = FLAGS.get(name)
        if name == 'data':
            return 'the data differs (a changed file, --dataset, --columns, sampling or split)'
        if name == 'code_hash':
            return 'the encoding code differs (the cache was made by another swift version)'
        if name.endswith('hash'):
            return f'{name} differs (another {flag[2:]} or another version of it)'
        via = f' ({flag})' if flag else ''
        return f'{name}{via} is {_cli(old)} in the cache but {_cli(new)} in this run'
    return None


def _cli(value) -> str:
    return str(value).lower() if value is None or isinstance(value, bool) else repr(value)


def refuse(path: str, what: str, problem: str, fix: str) -> DatasetError:
    return DatasetError(f'{what} {path} does not match this run: {problem}; {fix}')


def save_cache(path: str, datasets: Dict[str, Any], stats: Dict[str, EncodeStats], manifest: Dict[str, Any],
               *, replace: bool = False) -> bool:
    """Write the splits and the manifest into a unique hidden sibling and rename it to `path`. With `replace`
    an existing `path` is replaced (an export); otherwise the first writer wins and False says another run did
    (same key, same content)."""
    parent = os.path.dirname(os.path.abspath(path)) or '.'
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{os.path.basename(os.path.normpath(path))}.', suffix='.incomplete', dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would keep other users from a shared cache
    try:
        splits = {}
        for split, dataset in datasets.items():
            if dataset is None:
                continue
            dataset = _with_length(dataset, stats[split])
            dataset.save_to_disk(os.path.join(tmp, split))
            splits[split] = {'rows_in': stats[split].rows_in, 'rows': stats[split].rows_kept,
                             'dropped': stats[split].dropped}
        with open(os.path.join(tmp, MANIFEST), 'w', encoding='utf-8') as f:
            json.dump({**manifest, 'splits': splits}, f, ensure_ascii=False, indent=2)
        return _publish(tmp, path, replace)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _publish(tmp: str, path: str, replace: bool) -> bool:
    if replace:
        from swift.utils.atomic import publish_dir
        publish_dir(tmp, path)
        return True
    try:
        os.rename(tmp, path)  # atomic; fails when another run published first
    except OSError:
        if read_manifest(path) is None:
            raise
        return False
    return True


def _with_length(dataset, stats: EncodeStats):
    """Every cached row carries its token count ('length'), also for encoders that drop it for trl."""
    if 'length' in dataset.column_names or len(stats.lengths) != len(dataset):
        return dataset
    return dataset.add_column('length', list(stats.lengths))


def load_cache(path: str, manifest: Dict[str, Any], keep_length: bool = True) -> Tuple[Dict[str, Any], Dict]:
    """({split: Dataset | None}, {split: EncodeStats}) of a cache directory (memory-mapped arrow)."""
    out, stats = {}, {}
    for split in SPLITS:
        info = manifest.get('splits', {}).get(split)
        if info is None:
            out[split] = None
            continue
        dataset = hf_datasets.load_from_disk(os.path.join(path, split))
        lengths = dataset['length'] if 'length' in dataset.column_names else []
        if not keep_length and 'length' in dataset.column_names:
            dataset = dataset.remove_columns('length')
        out[split] = dataset
        stats[split] = EncodeStats(rows_in=info['rows_in'], rows_kept=info['rows'], dropped=dict(info['dropped']),
                                   lengths=array('i', lengths))
    return out, stats


def auto_cache_dir(key: Dict[str, Any]) -> str:
    """$SWIFT_CACHE/encoded/<sha256 of the key> (default ~/.cache/swift/encoded/...)."""
    return os.path.join(get_cache_dir(), 'encoded', _sha(json.dumps(key, sort_keys=True, default=str))[:32])


EncodeFn = Callable[[str, Any], Tuple[Any, EncodeStats]]


def encode_through_cache(path: str, raws: Dict[str, Any], encode: EncodeFn, key: Dict[str, Any],
                         record: Dict[str, Any], *, what: str, keep_length: bool = True):
    """({split: encoded}, {split: stats}, hit): the cache at `path` when its key matches, else encode the raw
    splits and save them there. A cache with another key is refused (`what` names the flag), never overwritten."""
    manifest = read_manifest(path)
    if manifest is not None:
        problem = mismatch(manifest['key'], key)
        if problem:
            raise refuse(path, what, problem, f'delete {path} or pass another {what} to re-encode.')
        datasets, stats = load_cache(path, manifest, keep_length)
        logger.info(f'{what} {path}: cache hit ({stats["train"].rows_kept} train rows), encoding skipped.')
        return datasets, stats, True
    datasets, stats = {}, {}
    for split in SPLITS:
        if raws.get(split) is not None:
            datasets[split], stats[split] = encode(split, raws[split])
        else:
            datasets[split] = None
    if save_cache(path, datasets, stats, build_manifest(key, record)):
        logger.info(f'{what} {path}: cache miss, encoded rows saved there.')
    return datasets, stats, False
