"""PyTorch or JAX for the proxy models? The same tiny decoder-only LM, the same batch, on the CPU.

    .venv/bin/python benchmarks/framework_choice.py torch
    benchmarks/.venv-jax/bin/python benchmarks/framework_choice.py jax     # venv: pip install jax jaxlib optax

Both: pre-norm blocks, learned positions, tied embeddings, GELU MLP, AdamW, one thread of compute
per process (taskset/threads are set here), d_model 128, 2 layers, context 128, batch 16, vocab 4096.
Prints training tokens/s after warm-up (JAX: after jit compilation, which is reported apart)."""

from __future__ import annotations

import os
import sys
import time

D, LAYERS, HEADS, CONTEXT, BATCH, VOCAB, STEPS = 128, 2, 4, 128, 16, 4096, 30


def bench_torch() -> None:
    import torch

    from winnow.evaluate.config import ModelSize
    from winnow.evaluate.model import ProxyLM, next_token_nll

    torch.set_num_threads(1)
    model = ProxyLM(ModelSize(layers=LAYERS, d_model=D, heads=HEADS, context=CONTEXT), VOCAB)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, VOCAB, (BATCH, CONTEXT + 1))

    def step() -> None:
        loss = next_token_nll(model, x[:, :-1], x[:, 1:]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    began = time.perf_counter()
    step()
    first = time.perf_counter() - began
    report("torch " + torch.__version__, step, first)


def bench_jax() -> None:
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(0)
    keys = iter(jax.random.split(key, 64))
    normal = lambda *shape: 0.02 * jax.random.normal(next(keys), shape)  # noqa: E731
    params = {
        "tok": normal(VOCAB, D),
        "pos": normal(CONTEXT, D),
        "blocks": [
            {"qkv": normal(D, 3 * D), "proj": normal(D, D), "up": normal(D, 4 * D), "down": normal(4 * D, D)}
            for _ in range(LAYERS)
        ],
    }

    def norm(x):
        mean = x.mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + 1e-5)

    def forward(p, ids):
        x = p["tok"][ids] + p["pos"][: ids.shape[1]]
        mask = jnp.tril(jnp.ones((ids.shape[1], ids.shape[1]), bool))
        for b in p["blocks"]:
            q, k, v = jnp.split(norm(x) @ b["qkv"], 3, axis=-1)
            split = lambda t: t.reshape(*t.shape[:2], HEADS, D // HEADS).transpose(0, 2, 1, 3)  # noqa: E731
            q, k, v = split(q), split(k), split(v)
            att = jnp.where(mask, q @ k.transpose(0, 1, 3, 2) / (D // HEADS) ** 0.5, -1e9)
            out = jax.nn.softmax(att, -1) @ v
            x = x + out.transpose(0, 2, 1, 3).reshape(x.shape) @ b["proj"]
            x = x + jax.nn.gelu(norm(x) @ b["up"]) @ b["down"]
        return norm(x) @ p["tok"].T

    def loss_fn(p, batch):
        logits = forward(p, batch[:, :-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch[:, 1:]).mean()

    tx = optax.adamw(1e-3)
    state = {"p": params, "o": tx.init(params)}

    @jax.jit
    def train_step(p, o, batch):
        loss, grads = jax.value_and_grad(loss_fn)(p, batch)
        updates, o = tx.update(grads, o, p)
        return optax.apply_updates(p, updates), o, loss

    x = jax.random.randint(next(keys), (BATCH, CONTEXT + 1), 0, VOCAB)

    def step() -> None:
        state["p"], state["o"], loss = train_step(state["p"], state["o"], x)
        loss.block_until_ready()

    began = time.perf_counter()
    step()
    first = time.perf_counter() - began
    report("jax " + jax.__version__, step, first)


def report(name: str, step, first: float) -> None:
    for _ in range(3):
        step()
    began = time.perf_counter()
    for _ in range(STEPS):
        step()
    per_step = (time.perf_counter() - began) / STEPS
    print(
        f"{name}: {BATCH * CONTEXT / per_step:,.0f} tokens/s on one core ({per_step * 1000:.1f} ms/step; first step {first:.1f} s)"
    )


if __name__ == "__main__":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, both frameworks
    {"torch": bench_torch, "jax": bench_jax}[sys.argv[1]]()
