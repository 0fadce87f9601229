"""Quantize a saved model directory with the library that owns the method: bitsandbytes, gptqmodel or auto-gptq,
autoawq. Each is an optional extra imported only when chosen; gptq/awq calibrate on --dataset rows encoded by our
template, so the calibration text is exactly what the model sees at inference.
"""
import importlib.util
from typing import Dict, List

from swift.template import MaxLengthError
from swift.utils import ArgumentError, get_logger

logger = get_logger()
# quant_method -> [(python module, pip package)], first installed wins
BACKENDS = {'bnb': [('bitsandbytes', 'bitsandbytes')], 'gptq': [('gptqmodel', 'gptqmodel'), ('auto_gptq', 'auto-gptq')],
            'awq': [('awq', 'autoawq')]}


def backend_module(quant_method: str) -> str:
    """The installed module for `quant_method`, or a one-line error naming the pip package."""
    if quant_method not in BACKENDS:
        raise ArgumentError(f'Unknown --quant_method {quant_method!r}; choose one of: {", ".join(BACKENDS)}.')
    for module, _ in BACKENDS[quant_method]:
        if importlib.util.find_spec(module) is not None:
            return module
    packages = ' or '.join(f'pip install {package}' for _, package in BACKENDS[quant_method])
    raise ArgumentError(f'--quant_method {quant_method} needs an extra package: {packages} '
                        '(gptq and awq need a GPU environment).')


def calibration_samples(args, template, train) -> List[Dict[str, List[int]]]:
    """Up to --quant_n_samples rows of `train` (--dataset, loaded by the pipeline) encoded by the template, cut
    at --max_length tokens."""
    template.max_length = None  # cut below instead of dropping long rows
    samples = []
    for row in train:
        try:
            ids = template.encode(row)['input_ids'][:args.max_length]
        except MaxLengthError:
            continue
        samples.append({'input_ids': ids, 'attention_mask': [1] * len(ids)})
        if len(samples) >= args.quant_n_samples:
            break
    if not samples:
        raise ArgumentError(f'--dataset {" ".join(args.dataset)} gave no calibration samples.')
    logger.info(f'Calibrating on {len(samples)} samples of --dataset.')
    return samples


def quantize_bnb(args, model_dir: str):
    """bitsandbytes quantizes while loading: load `model_dir` with a BitsAndBytesConfig; returns the model."""
    backend_module('bnb')
    from swift.model import get_model_tokenizer, get_quantization_config
    config = get_quantization_config(
        'bnb', args.quant_bits, bnb_4bit_compute_dtype=args.bnb_4bit_compute_dtype,
        bnb_4bit_quant_type=args.bnb_4bit_quant_type, bnb_4bit_use_double_quant=args.bnb_4bit_use_double_quant,
        bnb_4bit_quant_storage=args.bnb_4bit_quant_storage, torch_dtype=args.torch_dtype)
    model, _ = get_model_tokenizer(model_dir, args.torch_dtype, args.device_map, quantization_config=config,
                                   model_type=args.model_type)
    return model


def quantize_gptq(args, model_dir: str, samples, output_dir: str) -> None:
    if backend_module('gptq') == 'gptqmodel':
        from gptqmodel import GPTQModel, QuantizeConfig
        model = GPTQModel.load(model_dir, QuantizeConfig(bits=args.quant_bits, group_size=args.group_size))
        model.quantize(samples, batch_size=args.quant_batch_size)
        model.save(output_dir)
        return
    import torch
    from auto_gptq import AutoGPTQForCausalLM, BaseQuantizeConfig
    model = AutoGPTQForCausalLM.from_pretrained(
        model_dir, BaseQuantizeConfig(bits=args.quant_bits, group_size=args.group_size, desc_act=False))
    examples = [{k: torch.tensor([v]) for k, v in s.items()} for s in samples]
    model.quantize(examples, batch_size=args.quant_batch_size)
    model.save_quantized(output_dir, use_safetensors=True)


def quantize_awq(args, model_dir: str, samples, tokenizer, output_dir: str) -> None:
    backend_module('awq')
    from awq import AutoAWQForCausalLM
    model = AutoAWQForCausalLM.from_pretrained(model_dir)
    texts = [tokenizer.decode(s['input_ids'], skip_special_tokens=False) for s in samples]
    quant_config = {'zero_point': True, 'q_group_size': args.group_size, 'w_bit': args.quant_bits, 'version': 'GEMM'}
    model.quantize(tokenizer, quant_config=quant_config, calib_data=texts, max_calib_samples=len(texts),
                   max_calib_seq_len=args.max_length, n_parallel_calib_samples=args.quant_batch_size)
    model.save_quantized(output_dir)
