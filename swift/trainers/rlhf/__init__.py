"""swift rlhf trainers: thin subclasses over trl's (DPO, KTO, CPO/SimPO, ORPO, Reward, GRPO) and our own PPO."""
from .build import BUILDERS, build_rlhf_trainer, trl_config
