"""Many small runs: K seeds of the 2-D toy GAN trained as one batched model, against K runs in
sequence with the course's Trainer (lesson 04 needs dozens of runs for its tables).

Batched: the K generators' and K discriminators' parameters are stacked
(`torch.func.stack_module_state`), one non-saturating GAN step is written functionally and
vectorised over the K members with `torch.func.vmap(torch.func.grad(...))`, and one Adam
optimizer updates the stacked tensors; Adam is elementwise, so the members stay independent.
Each member draws its own real batch and noise. Sequential: `Trainer` K times, same models,
steps and batch size.

    python benchmarks/bench_seeds.py --seeds 10 --steps 500

Prints runs per minute both ways and the ratio, then a JSON object. Not part of the tests.
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import torch
from torch.func import functional_call, grad, stack_module_state, vmap

from gancourse import losses, toy
from gancourse.models import ToyDiscriminator, ToyGenerator
from gancourse.training import Trainer, TrainConfig


def members(seeds: int):
    pairs = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        pairs.append((ToyGenerator(), ToyDiscriminator()))
    return pairs


def batched(data: torch.Tensor, seeds: int, steps: int, batch: int) -> tuple[float, torch.Tensor]:
    """Seconds for `steps` steps of all members at once, and the members' samples afterwards."""
    pairs = members(seeds)
    g_params, _ = stack_module_state([g for g, _ in pairs])
    d_params, _ = stack_module_state([d for _, d in pairs])
    g_base, d_base = copy.deepcopy(pairs[0][0]).to("meta"), copy.deepcopy(pairs[0][1]).to("meta")
    g_tensors, d_tensors = list(g_params.values()), list(d_params.values())
    opt_g = torch.optim.Adam(g_tensors, lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_tensors, lr=1e-3, betas=(0.5, 0.999))

    def loss_d(dp, gp, x_real, z):
        x_fake = functional_call(g_base, gp, (z,)).detach()
        return losses.discriminator_loss(functional_call(d_base, dp, (x_real,)), functional_call(d_base, dp, (x_fake,)))

    def loss_g(gp, dp, z):
        return losses.generator_loss(functional_call(d_base, dp, (functional_call(g_base, gp, (z,)),)))

    grad_d, grad_g = vmap(grad(loss_d)), vmap(grad(loss_g))
    rng = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(steps):
        x_real = data[torch.randint(len(data), (seeds, batch), generator=rng)]  # (K, B, 2)
        z = torch.randn(seeds, batch, 2, generator=rng)
        for tensor, g in zip(d_tensors, grad_d(d_params, g_params, x_real, z).values()):
            tensor.grad = g
        opt_d.step()
        z = torch.randn(seeds, batch, 2, generator=rng)
        for tensor, g in zip(g_tensors, grad_g(g_params, d_params, z).values()):
            tensor.grad = g
        opt_g.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        samples = vmap(lambda gp, z: functional_call(g_base, gp, (z,)))(g_params, torch.randn(seeds, 2500, 2))
    return seconds, samples


def sequential(data: torch.Tensor, seeds: int, steps: int, batch: int) -> tuple[float, list[torch.Tensor]]:
    seconds, samples = 0.0, []
    for seed, (generator, discriminator) in enumerate(members(seeds)):
        config = TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=batch, seed=seed, snapshot_every=0, log_every=100)
        trainer = Trainer(generator, discriminator, data, config, "cpu")
        start = time.perf_counter()
        trainer.train(steps, progress=False)
        seconds += time.perf_counter() - start
        samples.append(trainer.sample(2500))
    return seconds, samples


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    mixture = toy.ring()
    data = mixture.sample(100_000, torch.Generator().manual_seed(0))
    t_seq, s_seq = sequential(data, args.seeds, args.steps, args.batch_size)
    t_bat, s_bat = batched(data, args.seeds, args.steps, args.batch_size)
    modes = lambda samples: sum(toy.mode_coverage(s, mixture).modes for s in samples) / len(samples)
    result = {"seeds": args.seeds, "steps": args.steps, "batch_size": args.batch_size,
              "threads": torch.get_num_threads(),
              "sequential_seconds": round(t_seq, 2), "batched_seconds": round(t_bat, 2),
              "speedup": round(t_seq / t_bat, 2),
              "mean_ring_modes_sequential": modes(s_seq), "mean_ring_modes_batched": modes(s_bat)}
    print(f"{args.seeds} seeds x {args.steps} steps of the ring GAN (batch {args.batch_size}): "
          f"in sequence {t_seq:.1f} s, batched {t_bat:.1f} s, x{t_seq / t_bat:.2f}; mean modes captured "
          f"{result['mean_ring_modes_sequential']:.1f} vs {result['mean_ring_modes_batched']:.1f} (sanity check)")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
