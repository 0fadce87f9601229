"""Human-readable count of trainable parameters."""


def get_trainable_summary(model) -> str:
    """'trainable params: X (Y%) of Z'; tied weights are counted once."""
    trainable = total = 0
    for param in model.parameters():  # parameters() yields each shared tensor once
        numel = getattr(param, 'ds_numel', None) or param.numel()  # ZeRO-3 partitioned: the full size
        total += numel
        if param.requires_grad:
            trainable += numel
    percent = 100 * trainable / total if total else 0.
    return f'trainable params: {trainable:,} ({percent:.4f}%) of {total:,}'
