"""PPO of our own: trl 1.16 removed PPOTrainer and its value-head models, so this is a compact single-process
PPO (RLHF as in trl's former PPOTrainer) on transformers/peft pieces: policy (+ adapter) with a linear value head
on its last hidden states, frozen reference (the base with the adapter disabled, or --ref_model), a sequence-
classification reward model, sampled rollouts, a per-token KL penalty, GAE and clipped policy/value losses."""
import math
import os
from typing import Any, Dict, List

import torch
import torch.nn.functional as F
from transformers import TrainerControl, TrainerState

from swift.template.collator import pad_batch
from swift.utils import ArgumentError, get_logger, pad_token_id

logger = get_logger()
VALUE_HEAD_FILE = 'value_head.safetensors'


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def whiten(x: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    out = (x - mean) * torch.rsqrt(var + 1e-8)
    return (out if shift_mean else out + mean) * mask


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float):
    """(advantages, returns) over the response tokens; positions after the response are masked out."""
    values, rewards = values * mask, rewards * mask
    last, advantages = 0., []
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else 0.
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = delta + gamma * lam * last
        advantages.append(last)
    advantages = torch.stack(advantages[::-1], dim=1) * mask
    return advantages, advantages + values


class PPOTrainer:

    def __init__(self, args, model, template, dataset, reward_model, ref_model=None, callbacks=()):
        self.args, self.model, self.template = args, model, template
        self.dataset, self.reward_model, self.ref_model = dataset, reward_model, ref_model
        self.tokenizer = template.tokenizer
        self.pad_id = pad_token_id(self.tokenizer)
        self.device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
        for m in (model, reward_model, ref_model):
            if m is not None:
                m.to(self.device)
        hidden = model.get_input_embeddings().weight.shape[1]
        self.value_head = torch.nn.Linear(hidden, 1).to(self.device)
        torch.nn.init.zeros_(self.value_head.weight)
        torch.nn.init.zeros_(self.value_head.bias)
        params = [p for p in model.parameters() if p.requires_grad] + list(self.value_head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay)
        self.state = TrainerState(is_world_process_zero=True, is_local_process_zero=True)
        self.callbacks = list(callbacks)

    def _pad(self, rows: List[List[int]], side: str):
        batch = pad_batch([{'input_ids': r} for r in rows], self.pad_id, side)
        return batch['input_ids'].to(self.device), batch['attention_mask'].to(self.device)

    # ----- model passes -----
    def _forward(self, model, input_ids, attention_mask, start: int):
        """Log-probs of tokens start.. and the values of the states that produced them."""
        out = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, use_cache=False)
        logits = out.logits[:, start - 1:-1].float() / max(self.args.temperature or 1., 1e-6)
        logprobs = torch.gather(F.log_softmax(logits, -1), 2, input_ids[:, start:, None]).squeeze(-1)
        values = self.value_head(out.hidden_states[-1][:, start - 1:-1].float()).squeeze(-1)
        return logprobs, values

    def _rollout_forward(self, model, input_ids, attention_mask, start):
        """_forward in chunks of --local_rollout_forward_batch_size rows (rollouts need no gradient)."""
        size = max(1, self.args.local_rollout_forward_batch_size)
        parts = [self._forward(model, ids, mask, start)
                 for ids, mask in zip(input_ids.split(size), attention_mask.split(size))]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def _ref_logprobs(self, input_ids, attention_mask, start):
        if self.ref_model is not None:
            return self._rollout_forward(self.ref_model, input_ids, attention_mask, start)[0]
        with self.model.disable_adapter():
            return self._rollout_forward(self.model, input_ids, attention_mask, start)[0]

    def _generate(self, prompts: List[List[int]]):
        ids, mask = self._pad(prompts, 'left')
        width = ids.shape[1]
        a = self.args
        sampling = dict(do_sample=True, temperature=a.temperature or 1., top_k=a.top_k or 0, top_p=a.top_p or 1.)
        seq = self.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=a.response_length,
                                  pad_token_id=self.pad_id, repetition_penalty=a.repetition_penalty or 1., **sampling)
        response = seq[:, width:]
        is_eos = response.eq(self.tokenizer.eos_token_id)
        ended = is_eos.cumsum(1) - is_eos.long()  # > 0 after the first eos
        response_mask = ended.eq(0).long()
        return seq, torch.cat([mask, response_mask], 1), response_mask, is_eos.any(1), width

    @torch.no_grad()
    def _scores(self, prompts, responses, response_mask, has_eos):
        rows = [p + r[m.bool()].tolist() for p, r, m in zip(prompts, responses, response_mask)]
        ids, mask = self._pad(rows, 'right')
        scores = self.reward_model(input_ids=ids, attention_mask=mask).logits[:, 0].float()
        if self.args.missing_eos_penalty is not None:
            scores = scores - self.args.missing_eos_penalty * (~has_eos).float()
        return scores

    # ----- one PPO step -----
    @torch.no_grad()
    def rollout(self, prompts: List[List[int]]) -> Dict[str, Any]:
        self.model.eval()
        seq, attention_mask, response_mask, has_eos, start = self._generate(prompts)
        logprobs, values = self._rollout_forward(self.model, seq, attention_mask, start)
        ref_logprobs = self._ref_logprobs(seq, attention_mask, start)
        scores = self._scores(prompts, seq[:, start:], response_mask, has_eos)
        mask = response_mask.float()
        kl = (logprobs - ref_logprobs) * mask
        rewards = -self.args.kl_coef * kl
        last = (response_mask.sum(1) - 1).clamp(min=0)
        rewards[torch.arange(len(prompts)), last] += scores
        if self.args.whiten_rewards:
            rewards = whiten(rewards, mask, shift_mean=False)
        advantages, returns = gae(rewards, values, mask, self.args.gamma, self.args.lam)
        advantages = whiten(advantages, mask)
        self._last_sample = self.tokenizer.decode(seq[0, start:][response_mask[0].bool()])
        return dict(seq=seq, attention_mask=attention_mask, mask=mask, start=start, logprobs=logprobs,
                    values=values, advantages=advantages, returns=returns, scores=scores, kl=kl.sum(1))

    def _loss(self, batch, idx):
        a = self.args
        logprobs, values = self._forward(self.model, batch['seq'][idx], batch['attention_mask'][idx], batch['start'])
        mask, adv, ret = batch['mask'][idx], batch['advantages'][idx], batch['returns'][idx]
        ratio = torch.exp(logprobs - batch['logprobs'][idx])
        pg = torch.max(-adv * ratio, -adv * ratio.clamp(1 - a.cliprange, 1 + a.cliprange))
        old_values = batch['values'][idx]
        clipped = old_values + (values - old_values).clamp(-a.cliprange_value, a.cliprange_value)
        vf = 0.5 * torch.max((values - ret) ** 2, (clipped - ret) ** 2)
        return masked_mean(pg, mask), masked_mean(vf, mask)

    def update(self, batch) -> Dict[str, float]:
        self.model.train()
        n = batch['seq'].shape[0]
        size = max(1, math.ceil(n / self.args.num_mini_batches))
        stats = []
        for _ in range(self.args.num_ppo_epochs):
            for idx in torch.randperm(n).split(size):
                pg_loss, vf_loss = self._loss(batch, idx)
                loss = pg_loss + self.args.vf_coef * vf_loss
                self.optimizer.zero_grad()
                loss.backward()
                params = [p for g in self.optimizer.param_groups for p in g['params']]
                torch.nn.utils.clip_grad_norm_(params, self.args.max_grad_norm)
                self.optimizer.step()
                stats.append((loss.item(), pg_loss.item(), vf_loss.item()))
        loss, pg, vf = (sum(s[i] for s in stats) / len(stats) for i in range(3))
        return {'loss': loss, 'policy_loss': pg, 'value_loss': vf,
                'score': batch['scores'].mean().item(), 'kl': batch['kl'].mean().item()}

    # ----- loop -----
    def _batches(self):
        bs, n = self.args.per_device_train_batch_size, len(self.dataset)
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        generator = torch.Generator().manual_seed(seed)
        while True:
            order = torch.randperm(n, generator=generator).tolist()
            for i in range(0, n - bs + 1 if n >= bs else 1, bs):
                yield [self.dataset[j]['prompt_ids'] for j in order[i:i + bs]]

    def _max_steps(self) -> int:
        if self.args.max_steps > 0:
            return self.args.max_steps
        per_epoch = max(1, len(self.dataset) // self.args.per_device_train_batch_size)
        return math.ceil(self.args.num_train_epochs * per_epoch)

    def is_world_process_zero(self) -> bool:
        return True  # single process

    def save_model(self, output_dir: str) -> None:
        self.save(output_dir)

    def train(self, resume_from_checkpoint=None) -> Dict[str, Any]:
        if resume_from_checkpoint:
            raise ArgumentError('--resume_from_checkpoint is not supported by --rlhf_type ppo: start a new run '
                                '(--adapters continues from a saved adapter).')
        self.state.max_steps = self._max_steps()
        control = TrainerControl()
        every = max(1, self.state.max_steps // self.args.num_sample_generations) \
            if self.args.num_sample_generations > 0 else 0
        for step, prompts in zip(range(1, self.state.max_steps + 1), self._batches()):
            logs = self.update(self.rollout(prompts))
            self.state.global_step = step
            logs = {k: round(v, 6) for k, v in logs.items()}
            logs.update({'step': step, 'global_step/max_steps': f'{step}/{self.state.max_steps}'})
            self.state.log_history.append(logs)
            if every and step % every == 0:
                logger.info(f'step {step} sample completion: {self._last_sample!r}')
            if step == 1 or step % max(1, int(self.args.logging_steps)) == 0:
                logger.info(logs)
                for cb in self.callbacks:
                    cb.on_log(self.args, self.state, control, logs=logs)
            if self.args.save_strategy == 'steps' and step % self.args.save_steps == 0:
                self.save(os.path.join(self.args.output_dir, f'checkpoint-{step}'))
        for cb in self.callbacks:
            cb.on_train_end(self.args, self.state, control)
        last = os.path.join(self.args.output_dir, f'checkpoint-{self.state.global_step}')
        if not os.path.isdir(last):
            self.save(last)
        return {'output_dir': self.args.output_dir, 'last_model_checkpoint': last, 'best_model_checkpoint': None,
                'log_history': self.state.log_history, 'trainer': self}

    def save(self, output_dir: str) -> None:
        from safetensors.torch import save_file
        from swift.trainers.trainer import _is_peft, disk_full_as_swift_error
        from swift.tuners import save_adapter
        with disk_full_as_swift_error(output_dir):
            os.makedirs(output_dir, exist_ok=True)
            if _is_peft(self.model):
                save_adapter(self.model, output_dir)
            else:
                self.model.save_pretrained(output_dir)
            save_file({k: v.contiguous() for k, v in self.value_head.state_dict().items()},
                      os.path.join(output_dir, VALUE_HEAD_FILE))
            self.tokenizer.save_pretrained(output_dir)
            self.args.save_args(output_dir)
