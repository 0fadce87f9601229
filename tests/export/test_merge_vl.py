"""`swift export --merge_lora true` on a LoRA of a vision-language model (tiny LLaVA): the merged model's logits on
an image prompt equal base + adapter, and the directory carries the processor (image settings, chat template)."""
import json
import os

import torch
from PIL import Image


def _vl_adapter(path):
    """A random (non-zero) LoRA on the language model only, saved like a training checkpoint."""
    from peft import LoraConfig, get_peft_model
    from swift.model import get_model_tokenizer
    model, _ = get_model_tokenizer('swift/tiny-llava')
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=32, init_lora_weights=False,
                        target_modules=r'model\.language_model\..*\.(q_proj|v_proj|up_proj)')
    get_peft_model(model, config).save_pretrained(path)
    with open(os.path.join(path, 'args.json'), 'w') as f:
        json.dump({'model': 'swift/tiny-llava', 'train_type': 'lora'}, f)
    return path


@torch.no_grad()
def _logits(model, processor):
    text = processor.apply_chat_template([{'role': 'user', 'content': [
        {'type': 'image'}, {'type': 'text', 'text': 'What colour?'}]}], add_generation_prompt=True)
    inputs = processor(text=[text], images=[Image.new('RGB', (40, 30), 'red')], return_tensors='pt')
    return model.eval()(**inputs).logits


def test_merged_vl_model_equals_base_plus_adapter(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from swift.model.tiny import get_tiny_model_dir
    from swift.pipelines.export import export_main
    ckpt = _vl_adapter(str(tmp_path / 'checkpoint-1'))
    out = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out)])
    assert {'processor_config.json', 'chat_template.jinja', 'tokenizer.json', 'args.json'} <= set(os.listdir(out))
    base_dir = get_tiny_model_dir('swift/tiny-llava')
    processor = AutoProcessor.from_pretrained(out)
    assert processor.chat_template == AutoProcessor.from_pretrained(base_dir).chat_template
    merged = AutoModelForImageTextToText.from_pretrained(out, dtype=torch.float32)
    base = AutoModelForImageTextToText.from_pretrained(base_dir, dtype=torch.float32)
    plain = _logits(base, processor)
    expected = _logits(PeftModel.from_pretrained(base, ckpt), processor)
    assert (expected - plain).abs().max() > 1e-2  # the adapter changed the model
    torch.testing.assert_close(_logits(merged, processor), expected, atol=1e-4, rtol=0)
    from swift.model import get_model_tokenizer
    _, tokenizer = get_model_tokenizer(str(out), load_model=False)
    assert tokenizer.model_meta.model_type == 'llava1_5_hf' and tokenizer.processor is not None
    from swift.infer import InferRequest, PtEngine, RequestConfig
    engine = PtEngine(str(out))
    answer = engine.infer([InferRequest([{'role': 'user', 'content': '<image>What colour?'}],
                                        images=[Image.new('RGB', (40, 30), 'red')])], RequestConfig(max_tokens=4))[0]
    assert answer.usage.prompt_tokens > 16
