"""Train one proxy model on one variant: AdamW, warmup + cosine, checkpoints, resume after a kill.

A run directory holds ``checkpoint.pt`` while training (written atomically every
``checkpoint_every`` steps) and ``model.pt`` + ``train.json`` once done. Training again in the
same directory resumes from the checkpoint, or returns the finished result."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import torch
from pydantic import BaseModel

from winnow.errors import WinnowError
from winnow.evaluate.config import TrainSpec
from winnow.evaluate.data import WindowSampler
from winnow.evaluate.model import ProxyLM, next_token_nll, pick_device
from winnow.export.token_dataset import TokenDataset

CHECKPOINT, MODEL, RESULT = "checkpoint.pt", "model.pt", "train.json"


class CurvePoint(BaseModel):
    step: int
    tokens: int
    loss: float  # mean training loss (nats/token) over the steps since the previous point


class TrainResult(BaseModel):
    spec: TrainSpec
    tokens_dir: str
    vocab_size: int
    parameters: int
    steps: int
    tokens: int
    curve: list[CurvePoint]
    device: str
    wall_seconds: float  # of this process's training (a resumed run counts only what it ran)
    tokens_per_second: float
    resumed_at_step: int | None = None


def learning_rate(spec: TrainSpec, step: int) -> float:
    """Linear warmup to the peak, then a cosine decay to ``min_lr_ratio`` x peak at the last step."""
    opt, total = spec.optimizer, spec.steps
    warmup = max(1, int(opt.warmup_fraction * total))
    if step < warmup:
        return opt.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = opt.min_lr_ratio
    return opt.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def build_model(spec: TrainSpec, vocab_size: int, device: torch.device) -> ProxyLM:
    torch.manual_seed(spec.seed)  # the same initial weights for every variant of one seed
    return ProxyLM(spec.model, vocab_size).to(device)


def _optimizer(model: ProxyLM, spec: TrainSpec) -> torch.optim.AdamW:
    # No weight decay on norms and embeddings' positions: the usual split, it keeps small models stable.
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("positions")]
    rest = [p for n, p in model.named_parameters() if p.dim() < 2 or n.startswith("positions")]
    groups = [{"params": decay, "weight_decay": spec.optimizer.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=spec.optimizer.lr, betas=(0.9, 0.95))


def train(tokens_dir: str | Path, spec: TrainSpec, run_dir: str | Path, device: str | None = None) -> TrainResult:
    """Train (or resume, or return the finished result of) one run in ``run_dir``."""
    run = Path(run_dir)
    done = run / RESULT
    if done.is_file():
        result = TrainResult.model_validate_json(done.read_text())
        if result.spec != spec:
            raise WinnowError(f"{done}: finished with a different spec; use a new output directory")
        return result
    run.mkdir(parents=True, exist_ok=True)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    where = pick_device(device)
    dataset = TokenDataset(tokens_dir, "train")
    vocab_size = int(dataset.header["tokenizer"]["vocab_size"])
    sampler = WindowSampler(dataset, spec.model.context, spec.optimizer.batch_size, spec.seed)
    model = build_model(spec, vocab_size, where)
    optimizer = _optimizer(model, spec)
    start, curve = _resume(run, spec, model, optimizer, where)

    began = time.perf_counter()
    running, since = torch.zeros((), device=where), 0
    for step in range(start, spec.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(spec, step)
        batch = torch.from_numpy(sampler.batch(step)).to(where, non_blocking=True)
        loss = next_token_nll(model, batch[:, :-1], batch[:, 1:]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), spec.optimizer.grad_clip)
        optimizer.step()
        running += loss.detach()
        since += 1
        if since == spec.log_every or step + 1 == spec.steps:
            tokens = (step + 1) * spec.optimizer.batch_size * spec.model.context
            curve.append(CurvePoint(step=step + 1, tokens=tokens, loss=float(running) / since))
            running.zero_()
            since = 0
        if (step + 1) % spec.checkpoint_every == 0 and step + 1 < spec.steps:
            _save_checkpoint(run, spec, step + 1, model, optimizer, curve)
    wall = time.perf_counter() - began

    trained_tokens = (spec.steps - start) * spec.optimizer.batch_size * spec.model.context
    result = TrainResult(
        spec=spec,
        tokens_dir=str(Path(tokens_dir).resolve()),
        vocab_size=vocab_size,
        parameters=model.num_parameters(),
        steps=spec.steps,
        tokens=spec.steps * spec.optimizer.batch_size * spec.model.context,
        curve=curve,
        device=str(where),
        wall_seconds=round(wall, 3),
        tokens_per_second=round(trained_tokens / wall, 1) if wall > 0 else 0.0,
        resumed_at_step=start or None,
    )
    _atomic_save(run / MODEL, {"model": model.state_dict(), "size": spec.model.model_dump(), "vocab": vocab_size})
    _atomic_write(done, result.model_dump_json(indent=1))
    (run / CHECKPOINT).unlink(missing_ok=True)
    return result


def load_model(run_dir: str | Path, device: str | None = None) -> ProxyLM:
    """The trained model of a finished run, in eval mode."""
    from winnow.evaluate.config import ModelSize

    path = Path(run_dir) / MODEL
    if not path.is_file():
        raise WinnowError(f"{path}: no trained model (training not finished)")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = ProxyLM(ModelSize.model_validate(saved["size"]), int(saved["vocab"]))
    model.load_state_dict(saved["model"])
    return model.to(pick_device(device)).eval()


def _resume(
    run: Path, spec: TrainSpec, model: ProxyLM, optimizer: torch.optim.Optimizer, where: torch.device
) -> tuple[int, list[CurvePoint]]:
    path = run / CHECKPOINT
    if not path.is_file():
        return 0, []
    try:
        saved = torch.load(path, map_location=where, weights_only=False)
    except Exception as error:  # a torn file cannot happen (atomic rename), a foreign one can
        raise WinnowError(f"{path}: unreadable checkpoint ({error}); delete it to start this run again") from None
    if TrainSpec.model_validate_json(saved["spec"]) != spec:
        raise WinnowError(f"{path}: checkpoint of a different spec; use a new output directory")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    return int(saved["step"]), [CurvePoint.model_validate(p) for p in saved["curve"]]


def _save_checkpoint(
    run: Path, spec: TrainSpec, step: int, model: ProxyLM, optimizer: torch.optim.Optimizer, curve: list[CurvePoint]
) -> None:
    state = {
        "spec": spec.model_dump_json(),
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "curve": [p.model_dump() for p in curve],
    }
    _atomic_save(run / CHECKPOINT, state)


def _atomic_save(path: Path, state: dict) -> None:
    # Written beside, then renamed: a kill mid-write leaves the previous checkpoint whole.
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_result(run_dir: str | Path) -> TrainResult:
    return TrainResult.model_validate(json.loads((Path(run_dir) / RESULT).read_text()))
