"""Human-readable count of trainable parameters."""


def get_trainable_summary(model) -> str:
    """'trainable params: X (Y%) of Z'; tied weights are counted once."""
    trainable = total = 0
    for param in model.parameters():  # parameters() yields each shared tensor once
        total += param.numel()
        if param.requires_grad:
            trainable += param.numel()
    percent = 100 * trainable / total if total else 0.
    return f'trainable params: {trainable:,} ({percent:.4f}%) of {total:,}'
