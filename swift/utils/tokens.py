"""Small token helpers every layer shares."""


def pad_token_id(tokenizer) -> int:
    """The pad id, or the eos id for tokenizers that define no pad token (most base models)."""
    pad = tokenizer.pad_token_id
    return tokenizer.eos_token_id if pad is None else pad
