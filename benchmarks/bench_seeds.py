"""Many small runs: K seeds of the 2-D toy GAN trained as one batched model, against K runs in
sequence with the course's Trainer (lesson 04 needs dozens of runs for its tables).

Batched: `gancourse.models.Ensemble` stacks the K generators' and K discriminators' weights and
runs them with `torch.func.vmap`; the same `Trainer` trains the pair with a batch K times larger,
split into one block per member (each member's gradients and Adam statistics are its own; see
tests/test_models.py). Sequential: `Trainer` K times, same models, steps and batch size.

    python benchmarks/bench_seeds.py --seeds 20 --steps 500

Prints the seconds both ways and the ratio; then, since both ways must be the same algorithm, the
modes captured per seed both ways (each seed scored on the same 2,500 noise vectors), their means
and standard deviations and a Mann-Whitney test; then a JSON object. The two ways draw different
random batches, and a GAN run is chaotic, so single seeds differ: only the distributions must
agree (tests/test_models.py checks that members match lone runs step by step). Not part of the tests.
"""
from __future__ import annotations

import argparse
import json
import statistics

import torch
from scipy.stats import mannwhitneyu

from gancourse import toy
from gancourse.models import Ensemble, ToyDiscriminator, ToyGenerator
from gancourse.training import Trainer, TrainConfig


def members(seeds: int):
    pairs = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        pairs.append((ToyGenerator(), ToyDiscriminator()))
    return pairs


def batched(data: torch.Tensor, seeds: int, steps: int, batch: int, z: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Seconds for `steps` steps of all members at once, and the members' samples of z[k] afterwards."""
    pairs = members(seeds)
    generator, discriminator = Ensemble(g for g, _ in pairs), Ensemble(d for _, d in pairs)
    config = TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=batch * seeds, snapshot_every=0, log_every=100)
    trainer = Trainer(generator, discriminator, data, config, "cpu")
    trainer.train(steps, progress=False)
    return trainer.seconds, generator.split(trainer.sample(z=z.flatten(0, 1)))


def sequential(data: torch.Tensor, seeds: int, steps: int, batch: int, z: torch.Tensor) -> tuple[float, list[torch.Tensor]]:
    seconds, samples = 0.0, []
    for seed, (generator, discriminator) in enumerate(members(seeds)):
        config = TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=batch, seed=seed, snapshot_every=0, log_every=100)
        trainer = Trainer(generator, discriminator, data, config, "cpu")
        trainer.train(steps, progress=False)
        seconds += trainer.seconds
        samples.append(trainer.sample(z=z[seed]))
    return seconds, samples


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args(argv)
    mixture = toy.ring()
    data = mixture.sample(100_000, torch.Generator().manual_seed(0))
    z = torch.randn(args.seeds, 2500, 2, generator=torch.Generator().manual_seed(10_000))
    t_seq, s_seq = sequential(data, args.seeds, args.steps, args.batch_size, z)
    t_bat, s_bat = batched(data, args.seeds, args.steps, args.batch_size, z)
    m_seq, m_bat = ([toy.mode_coverage(s, mixture).modes for s in samples] for samples in (s_seq, s_bat))
    sd = lambda values: statistics.stdev(values) if len(values) > 1 else 0.0
    p_value = float(mannwhitneyu(m_seq, m_bat).pvalue) if args.seeds > 1 else float("nan")
    result = {"seeds": args.seeds, "steps": args.steps, "batch_size": args.batch_size,
              "threads": torch.get_num_threads(),
              "sequential_seconds": round(t_seq, 2), "batched_seconds": round(t_bat, 2),
              "speedup": round(t_seq / t_bat, 2),
              "ring_modes_sequential": m_seq, "ring_modes_batched": m_bat,
              "mean_ring_modes_sequential": statistics.fmean(m_seq), "mean_ring_modes_batched": statistics.fmean(m_bat),
              "mann_whitney_p": p_value}
    print(f"{args.seeds} seeds x {args.steps} steps of the ring GAN (batch {args.batch_size}): "
          f"in sequence {t_seq:.1f} s, batched {t_bat:.1f} s, x{t_seq / t_bat:.2f}")
    for name, modes in (("in sequence", m_seq), ("batched", m_bat)):
        print(f"  modes captured {name:12} {modes}: mean {statistics.fmean(modes):.2f} ± {sd(modes):.2f} (sd)")
    print(f"  Mann-Whitney two-sided p = {p_value:.2f} (same algorithm: expect p > 0.05 in 19 of 20 runs)")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
