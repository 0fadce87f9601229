"""Plain-torch training and comparison helpers for the tuner tests."""
import torch


def train_steps(model, batch, steps=3, lr=1e-2, optimizer=None, after_step=None):
    """A few AdamW steps on one batch; returns the losses."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optimizer or torch.optim.AdamW(params, lr=lr, weight_decay=0.)
    losses = []
    for step in range(steps):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step(step)
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def logits_of(model, batch):
    model.eval()
    return model(input_ids=batch['input_ids'], attention_mask=batch['attention_mask']).logits


def snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def changed_names(before, model):
    return {n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())}
