"""Training speed: the course's Trainer against a plain PyTorch loop, same model, same steps.

The plain loop is what a learner writes from the official PyTorch DCGAN tutorial: a DataLoader
over torchvision's MNIST with ToTensor + Normalize, default memory format, BCEWithLogitsLoss with
label tensors built every step, and `.item()` on both losses every step. The package's loop is
`gancourse.training.Trainer` (data resident on the device, losses read every `log_every` steps,
channels_last for convolutions, D's weights frozen during G's step, fused Adam and bfloat16
autocast on CUDA). Both train freshly built copies of the same models with Adam 2e-4, β (0.5,
0.999), at the same batch size; the two are alternated and repeated, after a warm-up.

    python benchmarks/bench_training.py                       # MLP and DCGAN, CPU (and CUDA if present)
    python benchmarks/bench_training.py --models dcgan --steps 30 --repeats 3 --json out.json

Prints a table and a JSON object. Not part of the test suite: no test asserts a wall-clock time.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gancourse import data, models
from gancourse.training import Trainer, TrainConfig, fast_bfloat16

MODELS = {
    "mlp": lambda: (models.MLPGenerator(latent_dim=64), models.MLPDiscriminator()),
    "dcgan": lambda: (models.DCGANGenerator(latent_dim=100), models.DCGANDiscriminator()),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(make, device, steps: int, batch_size: int, warmup: int) -> float:
    """Images per second of the tutorial-style loop (timed after `warmup` steps)."""
    from torchvision import datasets, transforms

    torch.manual_seed(0)
    generator, discriminator = (m.to(device) for m in make())
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.MNIST(root=data.data_dir(), train=True, transform=transform)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True)
    criterion = torch.nn.BCEWithLogitsLoss()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batches = iter(loader)
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            _sync(device)
            start = time.perf_counter()
        try:
            x_real, _ = next(batches)
        except StopIteration:
            batches = iter(loader)
            x_real, _ = next(batches)
        x_real = x_real.to(device)
        b = x_real.size(0)
        real_label = torch.full((b,), 1.0, device=device)
        fake_label = torch.full((b,), 0.0, device=device)
        opt_d.zero_grad()
        loss_real = criterion(discriminator(x_real).view(-1), real_label)
        loss_real.backward()
        z = torch.randn(b, generator.latent_dim, device=device)
        x_fake = generator(z)
        loss_fake = criterion(discriminator(x_fake.detach()).view(-1), fake_label)
        loss_fake.backward()
        loss_d = loss_real + loss_fake
        opt_d.step()
        opt_g.zero_grad()
        loss_g = criterion(discriminator(x_fake).view(-1), real_label)
        loss_g.backward()
        opt_g.step()
        losses = (loss_d.item(), loss_g.item())  # the tutorial logs both every step
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def package_loop(make, device, steps: int, batch_size: int, warmup: int, images: torch.Tensor,
                 amp: bool | None = None) -> float:
    """Images per second of gancourse's Trainer (timed after `warmup` steps); ``amp=False`` forces
    float32, ``None`` is the Trainer's default (bfloat16 where the device runs it natively)."""
    torch.manual_seed(0)
    generator, discriminator = make()
    config = TrainConfig(batch_size=batch_size, snapshot_every=0, amp=amp)
    trainer = Trainer(generator, discriminator, images, config, device)
    trainer.train(warmup, progress=False)
    _sync(device)
    start = time.perf_counter()
    trainer.train(steps, progress=False)
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["mlp", "dcgan"])
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda if available")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default: 200 MLP, 30 DCGAN on CPU)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    devices = [torch.device(d) for d in (args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])))]
    results = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__,
               "batch_size": args.batch_size, "runs": []}
    for device in devices:
        images, _ = data.load_mnist(train=True, device=device)
        if device.type == "cuda":
            results["gpu"] = torch.cuda.get_device_name(device)
        for name in args.models:
            steps = args.steps or (200 if name == "mlp" or device.type == "cuda" else 30)
            plain, fp32, ours = [], [], []
            for _ in range(args.repeats):  # alternate, so drift in machine load hits all three
                plain.append(plain_loop(MODELS[name], device, steps, args.batch_size, args.warmup))
                fp32.append(package_loop(MODELS[name], device, steps, args.batch_size, args.warmup, images, amp=False))
                ours.append(package_loop(MODELS[name], device, steps, args.batch_size, args.warmup, images))
            row = {"model": name, "device": str(device), "steps": steps, "repeats": args.repeats,
                   "bfloat16": fast_bfloat16(device),
                   "plain_images_per_s": statistics.median(plain),
                   "gancourse_float32_images_per_s": statistics.median(fp32),
                   "gancourse_images_per_s": statistics.median(ours),
                   "plain_all": [round(v, 1) for v in plain], "gancourse_float32_all": [round(v, 1) for v in fp32],
                   "gancourse_all": [round(v, 1) for v in ours]}
            row["speedup_float32"] = row["gancourse_float32_images_per_s"] / row["plain_images_per_s"]
            row["speedup"] = row["gancourse_images_per_s"] / row["plain_images_per_s"]
            results["runs"].append(row)
            print(f"{name:6} {str(device):6} plain {row['plain_images_per_s']:9.0f} img/s   gancourse float32 "
                  f"{row['gancourse_float32_images_per_s']:9.0f}   default {row['gancourse_images_per_s']:9.0f} img/s "
                  f"  x{row['speedup']:.2f}  (median of {args.repeats}, {steps} steps each)", file=sys.stderr, flush=True)
    print(f"\n{results['cpu']}, {results['threads']} threads, torch {results['torch']}, batch {args.batch_size}")
    print("| model | device | plain loop (img/s) | Trainer, float32 (img/s) | Trainer, default (img/s) | speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    for row in results["runs"]:
        precision = "bfloat16" if row["bfloat16"] else "float32"
        print(f"| {row['model']} | {row['device']} | {row['plain_images_per_s']:,.0f} | "
              f"{row['gancourse_float32_images_per_s']:,.0f} ({row['speedup_float32']:.2f}×) | "
              f"{row['gancourse_images_per_s']:,.0f} ({precision}) | {row['speedup']:.2f}× |")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
