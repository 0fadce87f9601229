"""`swift export` / `swift merge-lora`: merge adapters, quantize, write GGUF and an Ollama Modelfile, push to a hub.

The steps compose into one output directory; this module only chooses among swift/export's functions.
"""
import copy
import os
import tempfile
from typing import Any, Dict, Sequence, Union

from swift.arguments.export_args import ExportArguments
from swift.utils import get_logger
from .base import build_template, load_datasets, load_model_tokenizer, to_args

logger = get_logger()


class SwiftExport:
    args_class = ExportArguments
    prog = 'swift export'

    def __init__(self, args: Union[None, ExportArguments, Sequence[str]] = None):
        self.args = to_args(self.args_class, args, self.prog)

    def run(self) -> Dict[str, Any]:
        from swift.export.hub import push_to_hub
        from swift.export.merge import check_mergeable, check_output_dir
        args = self.args
        if args.adapters:
            check_mergeable(args.adapters)
        result: Dict[str, Any] = {}
        if args.to_cached_dataset:
            return self._cached_dataset()
        if args.merge_lora or args.quant_method or args.to_gguf or args.to_ollama:
            output_dir = args.output_dir or args.default_output_dir()
            check_output_dir(output_dir, args.exist_ok)
            logger.info(f'Exporting {args.source_dir} to {output_dir}.')
            from transformers import set_seed
            set_seed(args.seed)  # calibration and quantizers draw random numbers
            result = self._staged_export(output_dir)
        folder = result.get('output_dir') or args.source_dir
        if args.push_to_hub:
            result['hub_model_id'] = push_to_hub(folder, args.hub_model_id, use_hf=args.use_hf,
                                                 hub_token=args.hub_token, private=args.hub_private_repo,
                                                 commit_message=args.commit_message)
        return result

    def _load(self, load_model: bool = True):
        """The base model and tokenizer in full precision (quant_* name the export target, not a load option),
        with --adapters merged in and the checkpoint's chat template on the tokenizer."""
        from swift.export.merge import merge_adapters, trained_chat_template
        plain = copy.copy(self.args)
        plain.quant_method = None
        model, tokenizer = load_model_tokenizer(plain, load_model=load_model)
        chat_template = trained_chat_template(self.args.adapters)
        if chat_template:
            tokenizer.chat_template = chat_template
        if model is not None and self.args.adapters:
            from swift.tuners import load_plugin_tuner
            merged = load_plugin_tuner(self.args.train_type, model, self.args.adapters, merge=True)
            model = merged if merged is not None else merge_adapters(model, self.args.adapters)
        return model, tokenizer

    def _staged_export(self, output_dir: str) -> Dict[str, Any]:
        """Written into `.<name>.incomplete` and renamed when complete: a killed export leaves no directory that
        `swift infer --model` or a rerun would take for a model (writing into the source itself stays in place)."""
        from swift.utils.atomic import staged_dir
        name = os.path.basename(os.path.normpath(output_dir))
        if os.path.realpath(output_dir) == os.path.realpath(self.args.source_dir):
            return self._export(output_dir, name)
        with staged_dir(output_dir) as tmp:
            result = self._export(tmp, name)
        return {k: v.replace(tmp, os.path.normpath(output_dir), 1) if isinstance(v, str) else v
                for k, v in result.items()}

    def _export(self, output_dir: str, name: str) -> Dict[str, Any]:
        from swift.export.gguf import check_gguf_support, write_gguf
        from swift.export.merge import save_model_dir
        args = self.args
        needs_weights = bool(args.adapters) or args.to_gguf or args.merge_lora
        model, tokenizer = self._load(load_model=needs_weights)
        template = build_template(args, tokenizer, mode='train')
        result: Dict[str, Any] = {'output_dir': output_dir}
        # Ollama without GGUF imports safetensors: merged adapters must be written next to the Modelfile.
        ollama_needs_weights = args.to_ollama and bool(args.adapters) and not args.to_gguf
        weights_saved = bool(args.quant_method) or args.merge_lora or ollama_needs_weights
        if args.to_gguf:
            check_gguf_support(model.config)  # fail before the slow steps
        if args.to_ollama:
            from swift.export.ollama import go_template
            go_template(template)  # a template Ollama cannot express is refused before anything is written
        if args.quant_method:
            self._quantize(model, tokenizer, template, output_dir)
        elif weights_saved:
            save_model_dir(model, tokenizer, output_dir, args.max_shard_size)
        if weights_saved:
            self._save_args(tokenizer, template, output_dir)
        if args.to_gguf:
            result['gguf'] = write_gguf(model, tokenizer, output_dir, args.gguf_quant_type, name=name,
                                        chat_template=tokenizer.chat_template)
        if args.to_ollama:
            result['modelfile'] = self._modelfile(template, output_dir, weights_saved)
        return result

    def _cached_dataset(self) -> Dict[str, Any]:
        """--to_cached_dataset: the encoded train/val splits and their manifest (docs/datasets.md)."""
        from swift.dataset import cache, encode_dataset
        from swift.dataset.encode import sft_encoder
        from swift.export.merge import check_output_dir
        from swift.template.rlhf import rlhf_encoder
        from .data_cache import cache_record, dataset_key
        args = self.args
        output_dir = args.output_dir or args.default_output_dir()
        check_output_dir(output_dir, args.exist_ok)
        raw_train, raw_val = load_datasets(args, origins=True)  # bad data fails before the tokenizer loads
        _, tokenizer = self._load(load_model=False)
        template = build_template(args, tokenizer, mode='train')
        encoding = {'train': 'sft', 'rlhf': 'rlhf:dpo', 'kto': 'rlhf:kto'}[args.template_mode]
        encoder = sft_encoder(template) if encoding == 'sft' else rlhf_encoder(encoding[5:], template)
        datasets, stats = {'train': raw_train, 'val': raw_val}, {}
        for split, raw in datasets.items():
            if raw is not None:
                datasets[split], stats[split] = encode_dataset(raw, template, encoder=encoder, strict=args.strict,
                                                               num_proc=args.dataset_num_proc)
                logger.info(f'{split} dataset: {stats[split]}')
        key = dataset_key(template, encoding, encoding, raw_train, raw_val)
        cache.save_cache(output_dir, datasets, stats, cache.build_manifest(key, cache_record(args)), replace=True)
        logger.info(f'Encoded dataset saved to {output_dir} (train it with --cached_dataset {output_dir}).')
        return {'output_dir': output_dir, 'cached_dataset': output_dir}

    def _quantize(self, model, tokenizer, template, output_dir: str) -> None:
        from swift.export.merge import save_model_dir
        from swift.export.quant import backend_module, calibration_samples, quantize_awq, quantize_bnb, quantize_gptq
        args = self.args
        backend_module(args.quant_method)  # a missing extra fails before anything is written
        samples = calibration_samples(args, template, load_datasets(args)[0]) if args.quant_method != 'bnb' else None
        with tempfile.TemporaryDirectory(prefix='swift-export-') as tmp:
            model_dir = tokenizer.model_info.model_dir
            if args.adapters:  # the quantizers read a directory: hand them the merged model
                save_model_dir(model, tokenizer, tmp)
                model_dir = tmp
            if args.quant_method == 'bnb':
                save_model_dir(quantize_bnb(args, model_dir), tokenizer, output_dir, args.max_shard_size)
            elif args.quant_method == 'gptq':
                quantize_gptq(args, model_dir, samples, output_dir)
            else:
                quantize_awq(args, model_dir, samples, tokenizer, output_dir)
        tokenizer.save_pretrained(output_dir)
        logger.info(f'Saved the {args.quant_method} int{args.quant_bits} model to {output_dir}.')

    def _save_args(self, tokenizer, template, output_dir: str) -> None:
        from swift.export.merge import export_args_json
        extra = export_args_json(self.args, tokenizer, template.template_meta.template_type)
        self.args.save_args(output_dir, extra=extra)

    def _modelfile(self, template, output_dir: str, weights_saved: bool) -> str:
        from swift.export.gguf import GGUF_FILE
        from swift.export.ollama import write_modelfile
        if self.args.to_gguf:
            source = f'./{GGUF_FILE}'
        elif weights_saved:
            source = '.'
        else:
            source = os.path.abspath(template.tokenizer.model_info.model_dir)
        return write_modelfile(template, output_dir, source)


class SwiftMergeLora(SwiftExport):
    prog = 'swift merge-lora'


def export_main(args: Union[None, ExportArguments, Sequence[str]] = None) -> Dict[str, Any]:
    return SwiftExport(args).run()


def merge_lora_main(argv: Union[None, Sequence[str]] = None) -> Dict[str, Any]:
    """`swift merge-lora --adapters ckpt [...]` = `swift export --adapters ckpt --merge_lora true [...]`."""
    import sys
    argv = list(sys.argv[1:] if argv is None else argv)
    return SwiftMergeLora(['--merge_lora', 'true'] + argv).run()
