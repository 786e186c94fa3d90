"""Command line: ``python -m gancourse {train,evaluate,modes} ...``.

Results go to stdout as JSON; progress bars go to stderr; a bad argument gets a one-line error
and exit code 2.

    python -m gancourse train --model dcgan --loss non-saturating --steps 2000 --out runs/dcgan
    python -m gancourse evaluate runs/dcgan/generator.pt
    python -m gancourse modes --dataset ring --loss wgan-gp --seeds 5 --steps 3000
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from gancourse import metrics, models, runtime, toy
from gancourse.files import atomic_path
from gancourse.training import LOSSES, Trainer, TrainConfig

MODELS = {
    "mlp": (models.MLPGenerator, {"latent_dim": 64}, models.MLPDiscriminator),
    "dcgan": (models.DCGANGenerator, {"latent_dim": 100}, models.DCGANDiscriminator),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2 (argparse's default prints the usage too)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gancourse", description="Train and judge the course's GANs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a GAN on MNIST; print its metrics as JSON")
    train.add_argument("--model", choices=sorted(MODELS), default="mlp")
    train.add_argument("--loss", choices=LOSSES, default="non-saturating")
    train.add_argument("--steps", type=_positive, default=None,
                       help="generator updates (default 3000, or 30 with GANCOURSE_QUICK=1)")
    train.add_argument("--batch-size", type=_positive, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", type=Path, default=Path("runs/latest"), help="folder for checkpoint.pt and generator.pt")
    train.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    train.add_argument("--samples", type=_positive, default=None, help="samples to judge (default 10000; quick 1000)")

    evaluate = sub.add_parser("evaluate", help="judge a generator saved by `train`; print JSON")
    evaluate.add_argument("generator", type=Path, help="generator.pt written by `train`")
    evaluate.add_argument("--samples", type=_positive, default=None)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--device", default=None)

    modes = sub.add_parser("modes", help="2-D mode-coverage experiment over seeds; print the table as JSON")
    modes.add_argument("--dataset", choices=["ring", "grid"], default="ring")
    modes.add_argument("--loss", choices=LOSSES, default="non-saturating")
    modes.add_argument("--seeds", type=_positive, default=5)
    modes.add_argument("--steps", type=_positive, default=None, help="default 5000, or 50 with GANCOURSE_QUICK=1")
    modes.add_argument("--pack", type=_positive, default=1, help="PacGAN packing degree (1: none)")
    modes.add_argument("--device", default=None)
    return parser


def _judge(generator, latent_dim: int, n: int, seed: int, device) -> dict:
    from gancourse.data import load_mnist

    judge = metrics.load_judge(device)
    real, _ = load_mnist(train=False, device=device)
    real_features = judge.embed(real[:n])[0]
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, latent_dim, generator=gen).to(device)
    generator.eval()
    with torch.no_grad():
        images = torch.cat([generator(chunk).float() for chunk in z.split(1000)])
    report = metrics.judge_report(images, judge, real_features)
    report["histogram"] = [round(v, 4) for v in report["histogram"]]
    return report


def cmd_train(args) -> dict:
    from gancourse.data import load_mnist

    device = runtime.pick_device(args.device)
    runtime.seed_everything(args.seed)
    make_g, g_kwargs, make_d = MODELS[args.model]
    generator, discriminator = make_g(**g_kwargs), make_d()
    images, _ = load_mnist(train=True, device=device)
    steps = args.steps or runtime.budget(full=3000, quick=30)
    config = TrainConfig.preset(args.loss, batch_size=args.batch_size, seed=args.seed)
    trainer = Trainer(generator, discriminator, images, config, device)
    history = trainer.train(steps)
    args.out.mkdir(parents=True, exist_ok=True)
    trainer.save(args.out / "checkpoint.pt")
    with atomic_path(args.out / "generator.pt") as tmp:
        torch.save({"model": args.model, "kwargs": g_kwargs, "state_dict": generator.state_dict()}, tmp)
    n = args.samples or runtime.budget(full=10_000, quick=1000)
    result = {"model": args.model, "loss": args.loss, "steps": trainer.step, "seconds": round(trainer.seconds, 2),
              "images_per_second": round(trainer.images_per_second, 1),
              "device": str(device), "out": str(args.out), "final": history.rows[-1] if history.rows else None}
    result["judge"] = _judge(generator, g_kwargs["latent_dim"], n, args.seed, device)
    return result


def cmd_evaluate(args) -> dict:
    if not args.generator.exists():
        raise SystemExit(f"python -m gancourse evaluate: error: {args.generator} does not exist")
    saved = torch.load(args.generator, map_location="cpu", weights_only=True)
    if not isinstance(saved, dict) or saved.get("model") not in MODELS:
        raise SystemExit(f"python -m gancourse evaluate: error: {args.generator} is not a generator "
                         f"saved by `python -m gancourse train`")
    device = runtime.pick_device(args.device)
    make_g = MODELS[saved["model"]][0]
    generator = make_g(**saved["kwargs"])
    generator.load_state_dict(saved["state_dict"])
    n = args.samples or runtime.budget(full=10_000, quick=1000)
    return {"generator": str(args.generator), "model": saved["model"],
            "judge": _judge(generator.to(device), saved["kwargs"]["latent_dim"], n, args.seed, device)}


def cmd_modes(args) -> dict:
    steps = args.steps or runtime.budget(full=5000, quick=50)
    return toy.mode_experiment(args.dataset, args.loss, args.seeds, steps, pack=args.pack, device=args.device)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = {"train": cmd_train, "evaluate": cmd_evaluate, "modes": cmd_modes}[args.command](args)
    except ValueError as error:  # e.g. an unavailable device
        print(f"python -m gancourse {args.command}: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0
