"""--train_type longlora (LongLoRA): LoRA plus trainable embeddings and norms, trained with shifted sparse
attention (S2-Attn): in training, attention runs inside groups of a quarter of the sequence, and half of the heads
see groups shifted by half a group, so information still flows between groups. Evaluation and inference use
full attention (the model's own), so the result is a plain LoRA adapter that merges.
"""
import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

from swift.utils import get_logger

logger = get_logger()
ATTN_NAME = 'longlora_s2'
GROUP_RATIO = 4  # group size = sequence length / 4, as in the paper
# Trained in full besides LoRA: embeddings and normalisation layers (module-name endings).
TRAINABLE_ENDINGS = ('embed_tokens', 'norm', 'input_layernorm', 'post_attention_layernorm')


def s2_attention_forward(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """(B, H, L, D) query/key/value -> (B, L, H, D) output; full sdpa attention outside training."""
    if not module.training:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout,
                                      **kwargs)
    key = repeat_kv(key, query.shape[1] // key.shape[1])
    value = repeat_kv(value, query.shape[1] // value.shape[1])
    batch, heads, length, dim = query.shape
    padded = -(-length // (2 * GROUP_RATIO)) * 2 * GROUP_RATIO  # an even group size
    group = padded // GROUP_RATIO

    def split(x):
        x = F.pad(x, (0, 0, 0, padded - length))
        x = torch.cat([x[:, :heads // 2], x[:, heads // 2:].roll(-group // 2, dims=2)], dim=1)
        return x.reshape(batch, heads, GROUP_RATIO, group, dim).transpose(1, 2).reshape(-1, heads, group, dim)

    out = F.scaled_dot_product_attention(split(query), split(key), split(value), is_causal=True, scale=scaling,
                                         dropout_p=dropout if module.training else 0.0)
    out = out.reshape(batch, GROUP_RATIO, heads, group, dim).transpose(1, 2).reshape(batch, heads, padded, dim)
    out = torch.cat([out[:, :heads // 2], out[:, heads // 2:].roll(group // 2, dims=2)], dim=1)[:, :, :length]
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTN_NAME, s2_attention_forward)
AttentionMaskInterface.register(ATTN_NAME, sdpa_mask)


def trainable_modules(model) -> list:
    """Names of the embedding and norm modules LongLoRA trains in full (peft modules_to_save)."""
    names = {name.split('.')[-1] for name, _ in model.named_modules() if name.endswith(TRAINABLE_ENDINGS)}
    return sorted(names)


def use_s2_attention(model) -> None:
    model.set_attn_implementation(ATTN_NAME)
    logger.info('LongLoRA: shifted sparse attention in training, full attention in evaluation and inference.')
