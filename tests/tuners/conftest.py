"""Shared fixtures: the tiny offline Qwen2 model, a fixed batch, and plain-torch training."""
from dataclasses import dataclass, field
from typing import List, Optional

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.arguments.tuner_args import TunerArguments
from swift.model.tiny import get_tiny_model_dir


@dataclass
class Args(TunerArguments):
    """TunerArguments plus the BaseArguments/TrainingArguments fields prepare_model reads."""
    train_type: str = 'lora'
    adapters: List[str] = field(default_factory=list)
    resume_from_checkpoint: Optional[str] = None
    max_steps: int = -1


@pytest.fixture(scope='session')
def model_dir():
    return get_tiny_model_dir('swift/tiny-qwen2')


@pytest.fixture
def load_model(model_dir):
    def load():
        torch.manual_seed(0)
        return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    return load


@pytest.fixture(scope='session')
def batch():
    gen = torch.Generator().manual_seed(0)
    input_ids = torch.randint(10, 200, (2, 12), generator=gen)
    return {'input_ids': input_ids, 'attention_mask': torch.ones_like(input_ids), 'labels': input_ids.clone()}
