"""Many small runs: K seeds of the 2-D toy GAN trained as one batched model, against K runs in
sequence with the course's Trainer (lesson 04 needs dozens of runs for its tables).

Batched: `gancourse.models.Ensemble` stacks the K generators' and K discriminators' weights and
runs them with `torch.func.vmap`; the same `Trainer` trains the pair with a batch K times larger,
split into one block per member (each member's gradients and Adam statistics are its own; see
tests/test_models.py). Sequential: `Trainer` K times, same models, steps and batch size.

    python benchmarks/bench_seeds.py --seeds 10 --steps 500

Prints runs per minute both ways and the ratio, then a JSON object. Not part of the tests.
"""
from __future__ import annotations

import argparse
import json

import torch

from gancourse import toy
from gancourse.models import Ensemble, ToyDiscriminator, ToyGenerator
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
    generator, discriminator = Ensemble(g for g, _ in pairs), Ensemble(d for _, d in pairs)
    config = TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=batch * seeds, snapshot_every=0, log_every=100)
    trainer = Trainer(generator, discriminator, data, config, "cpu")
    trainer.train(steps, progress=False)
    return trainer.seconds, generator.split(trainer.sample(2500 * seeds))


def sequential(data: torch.Tensor, seeds: int, steps: int, batch: int) -> tuple[float, list[torch.Tensor]]:
    seconds, samples = 0.0, []
    for seed, (generator, discriminator) in enumerate(members(seeds)):
        config = TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=batch, seed=seed, snapshot_every=0, log_every=100)
        trainer = Trainer(generator, discriminator, data, config, "cpu")
        trainer.train(steps, progress=False)
        seconds += trainer.seconds
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
