"""Command line: ``python -m gancourse {train,evaluate,modes,pretrain} ...``.

Results go to stdout as one JSON document (never NaN or Infinity: those become null); progress
bars and messages go to stderr. A user's mistake or a fault of the machine gets one line saying
what happened and what to do, never a traceback.

    python -m gancourse train --model dcgan --loss non-saturating --steps 2000 --out runs/dcgan
    python -m gancourse train --resume runs/dcgan --steps 4000     # continue the same run
    python -m gancourse evaluate runs/dcgan/generator.pt
    python -m gancourse train --conditional --out runs/cgan   # lesson 06: per-digit report
    python -m gancourse train --loss hinge --ema 0.999 --r1 10 --r1-every 16 --augment translation,cutout \
        --train-size 600 --out runs/recipe                      # lesson 08: the modern recipe on 1 % of MNIST
    python -m gancourse modes --dataset ring --loss wgan-gp --seeds 5 --steps 3000
    python -m gancourse pretrain dcgan                    # retrain a shipped generator and its manifest
    python -m gancourse evaluate --pretrained dcgan       # reproduce its manifest's figures (else exit 1)

Exit codes: 0 done; 1 the machine failed us (disk full, out of memory, a NaN loss); 2 bad input
(an argument, a file, an occupied run folder, a missing device or dataset); 130 interrupted by
Ctrl-C, 143 by SIGTERM (``train`` saves a checkpoint first; ``--resume`` continues from it).

``train`` writes into its run folder: ``checkpoint.pt`` (every ``--checkpoint-every`` steps,
at the end and when interrupted), ``generator.pt`` and ``run.json`` (its settings), each
atomically. It refuses a folder that already holds a run unless given ``--resume`` (continue:
the result equals an uninterrupted run) or ``--overwrite`` (start again, replacing the run's
files and nothing else).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import pickle
import signal
import sys
import tempfile
from pathlib import Path

import torch

from gancourse import augment, metrics, models, pretrained, runtime, toy
from gancourse.data import subset
from gancourse.files import atomic_path, atomic_write_text
from gancourse.training import LOSSES, NonFiniteLossError, Trainer, TrainConfig

MODELS = {
    "mlp": (models.MLPGenerator, {"latent_dim": 64}, models.MLPDiscriminator),
    "dcgan": (models.DCGANGenerator, {"latent_dim": 100}, models.DCGANDiscriminator),
}
#: ``--conditional`` (lesson 06): class-conditional models, projection discriminators.
CONDITIONAL_MODELS = {
    "mlp": (models.ConditionalMLPGenerator, {"latent_dim": 64}, models.ConditionalMLPDiscriminator),
    "dcgan": (models.ConditionalDCGANGenerator, {"latent_dim": 100}, models.ConditionalDCGANDiscriminator),
}
RUN_FILES = ("checkpoint.pt", "generator.pt", "run.json")
FEATURE_DIM, TEST_IMAGES = metrics.FEATURE_DIM, 10_000
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
TRAIN_DEFAULTS = {"model": "mlp", "loss": "non-saturating", "batch_size": 128, "seed": 0, "conditional": False,
                  "ema": 0.0, "r1": 0.0, "r1_every": 1, "augment": "", "train_size": None}
#: run.json keys added after its first version: an older run.json has their defaults
_LATER_KEYS = ("conditional", "ema", "r1", "r1_every", "augment", "train_size")
#: the TrainConfig field behind each training setting of run.json
_CONFIG_FIELDS = {"loss": "loss", "batch_size": "batch_size", "seed": "seed", "ema": "ema_decay", "r1": "r1_gamma",
                  "r1_every": "r1_every", "augment": "augment"}


class UserError(Exception):
    """A mistake in the command's input: one line on stderr, exit code 2."""


class MachineError(Exception):
    """The machine failed (disk full, out of memory, a NaN loss): one line on stderr, exit code 1."""


class Interrupted(Exception):
    """Stopped at once by a second Ctrl-C: one line on stderr, exit code 130."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2 (argparse's default prints the usage too)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _parse(text: str, kind: type):
    """``text`` as an int or a float; else the one-line argparse error."""
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None


def _positive(text: str) -> int:
    value = _parse(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seed(text: str) -> int:
    value = _parse(text, int)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63 - 1, not {value}")
    return value


def _fraction(text: str) -> float:
    value = _parse(text, float)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (0: off; 0.999 is usual), not {value}")
    return value


def _weight(text: str) -> float:
    value = _parse(text, float)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text}")
    return value


def _policy(text: str) -> str:
    try:
        return ",".join(augment.parse_policy(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _samples(text: str) -> int:
    value = _positive(text)
    if not FEATURE_DIM < value <= TEST_IMAGES:
        raise argparse.ArgumentTypeError(
            f"must be between {FEATURE_DIM + 1} (the Fréchet distance needs more samples than the judge's "
            f"{FEATURE_DIM} features) and {TEST_IMAGES:,} (MNIST's test images), not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gancourse", description="Train and judge the course's GANs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = sub.add_parser("train", help="train a GAN on MNIST; print its metrics as JSON")
    train.add_argument("--model", choices=sorted(MODELS), default=None, help="default mlp")
    train.add_argument("--loss", choices=LOSSES, default=None, help="default non-saturating")
    train.add_argument("--steps", type=_positive, default=None,
                       help="generator updates in all (default 3000, or 30 with GANCOURSE_QUICK=1)")
    train.add_argument("--batch-size", type=_positive, default=None, help="default 128")
    train.add_argument("--seed", type=_seed, default=None, help="default 0")
    train.add_argument("--conditional", action="store_true", default=None,
                       help="a class-conditional GAN: the JSON adds the judge's per-digit report (lesson 06)")
    train.add_argument("--ema", type=_fraction, default=None, metavar="DECAY",
                       help="sample, save and judge an exponential moving average of G, e.g. 0.999 (default 0: off)")
    train.add_argument("--r1", type=_weight, default=None, metavar="GAMMA",
                       help="R1 penalty γ on real images, e.g. 10 (default 0: off)")
    train.add_argument("--r1-every", type=_positive, default=None, metavar="K",
                       help="lazy R1: every K discriminator steps, scaled by K (default 1)")
    train.add_argument("--augment", type=_policy, default=None, metavar="POLICY",
                       help="DiffAugment for real and fake batches: translation, cutout, color, comma-separated")
    train.add_argument("--train-size", type=_positive, default=None, metavar="N",
                       help="train on a fixed random subset of N of MNIST's 60,000 training images (seed 0)")
    where = train.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None,
                       help="run folder for checkpoint.pt, generator.pt and run.json (default runs/latest)")
    where.add_argument("--resume", type=Path, default=None, metavar="DIR",
                       help="continue the run in DIR up to --steps in all; its settings come from DIR/run.json")
    train.add_argument("--overwrite", action="store_true", help="replace the run in --out (its files only)")
    train.add_argument("--checkpoint-every", type=_positive, default=500, metavar="N",
                       help="save checkpoint.pt every N steps (default 500)")
    train.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    train.add_argument("--samples", type=_samples, default=None, help="samples to judge (default 10000; quick 1000)")

    evaluate = sub.add_parser("evaluate", help="judge a generator saved by `train`, or a pretrained one; print JSON")
    evaluate.add_argument("generator", type=Path, nargs="?", help="generator.pt written by `train`")
    evaluate.add_argument("--pretrained", choices=pretrained.names(), default=None, metavar="NAME",
                          help=f"a shipped generator ({', '.join(pretrained.names())}): compare with its manifest")
    evaluate.add_argument("--samples", type=_samples, default=None, help="default 10000; quick 1000")
    evaluate.add_argument("--seed", type=_seed, default=0)
    evaluate.add_argument("--device", default=None)

    pretrain = sub.add_parser("pretrain", help="train a shipped generator from its recipe; write it and its manifest")
    pretrain.add_argument("name", choices=pretrained.names(), metavar="NAME",
                          help=f"one of {', '.join(pretrained.names())}")
    where = pretrain.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, default=None,
                       help="run folder for checkpoint.pt and run.json (default runs/pretrain-NAME)")
    where.add_argument("--resume", type=Path, default=None, metavar="DIR", help="continue the run in DIR")
    pretrain.add_argument("--overwrite", action="store_true", help="replace the run in --out (its files only)")
    pretrain.add_argument("--steps", type=_positive, default=None, help="default: the recipe's")
    pretrain.add_argument("--weights", type=Path, default=None, metavar="DIR",
                          help="where NAME.pt and NAME.json go (default: the package's weights folder)")
    pretrain.add_argument("--checkpoint-every", type=_positive, default=500, metavar="N")
    pretrain.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")

    modes = sub.add_parser("modes", help="2-D mode-coverage experiment over seeds; print the table as JSON")
    modes.add_argument("--dataset", choices=["ring", "grid"], default="ring")
    modes.add_argument("--loss", choices=LOSSES, default="non-saturating")
    modes.add_argument("--seeds", type=_positive, default=5)
    modes.add_argument("--steps", type=_positive, default=None, help="default 5000, or 50 with GANCOURSE_QUICK=1")
    modes.add_argument("--pack", type=_positive, default=1, help="PacGAN packing degree (1: none)")
    modes.add_argument("--device", default=None)
    return parser


# --- shared --------------------------------------------------------------------------------

def _device(name: str | None) -> torch.device:
    try:
        return runtime.pick_device(name)
    except ValueError as error:
        raise UserError(str(error)) from None


def _images(device: torch.device, train: bool = True, labels: bool = False):
    """MNIST's images (and their labels when ``labels``)."""
    from gancourse.data import load_mnist

    try:
        images, classes = load_mnist(train=train, device=device)
    except (OSError, RuntimeError) as error:  # missing, damaged or unreadable files
        raise UserError(str(error).strip()) from None
    return (images, classes) if labels else images


def _load_judge(device: torch.device) -> tuple[metrics.MNISTJudge, torch.Tensor, torch.Tensor]:
    """The judge and MNIST's test images and labels, loaded before any training (a damaged file fails fast)."""
    try:
        judge = metrics.load_judge(device)
    except (OSError, RuntimeError, ValueError) as error:
        raise UserError(f"the judge's weights cannot be loaded: {str(error).splitlines()[0]}; reinstall "
                        f"the package or retrain them with python -m gancourse.metrics train") from None
    return (judge, *_images(device, train=False, labels=True))


def _judge(generator, n: int, seed: int, device, judge_and_real=None,
           conditional: bool = False) -> dict:
    judge, real, real_labels = judge_and_real or _load_judge(device)
    real_features = judge.embed(real[:n])[0]
    images, requested = pretrained.sample(generator, n, seed, conditional, device)  # digits 0..9 in turn
    if not bool(torch.isfinite(images).all()):
        raise MachineError("the generator's images contain NaN or Inf: its weights are broken")
    report = metrics.judge_report(images, judge, real_features)
    report["histogram"] = [round(v, 4) for v in report["histogram"]]
    if conditional:  # FD per digit: the images asked for digit k against the real test images of k
        per_digit = metrics.conditional_report(images, requested, judge, real, real_labels)
        report["requested"] = {key: per_digit[key] for key in (
            "accuracy", "accuracy_per_digit", "confusion", "frechet_distance_per_digit", "n_per_digit")}
    return report


def _finite(value):
    """``value`` with every NaN or Infinity replaced by None (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _save(what: str, path: Path, write) -> None:
    """Write one file atomically; a full disk or a permission problem is a one-line MachineError."""
    try:
        with atomic_path(path) as tmp:
            write(tmp)
    except (OSError, RuntimeError) as error:  # torch.save reports a short write as a RuntimeError
        reason = getattr(error, "strerror", None) or "the write failed, is the disk full?"
        raise MachineError(f"could not write {path}: {reason}; the previous {what} "
                           f"is intact. Free some space (or fix the permissions) and run again") from None


# --- train ---------------------------------------------------------------------------------

def _run_folder(args) -> tuple[Path, dict]:
    """The run folder and the run's settings; everything checkable, checked before training."""
    given = {key: getattr(args, key) for key in TRAIN_DEFAULTS if getattr(args, key) is not None}
    if args.resume is not None:
        folder = args.resume
        if args.overwrite:
            raise UserError("--overwrite and --resume contradict each other: choose one")
        try:
            settings = json.loads((folder / "run.json").read_text())
            settings = {key: settings.get(key, TRAIN_DEFAULTS[key]) if key in _LATER_KEYS else settings[key]
                        for key in TRAIN_DEFAULTS}
            settings["conditional"] = bool(settings["conditional"])
            if settings["model"] not in MODELS or settings["loss"] not in LOSSES:
                raise ValueError("unknown model or loss")
        except FileNotFoundError:
            raise UserError(f"{folder} holds no run to resume (no run.json); start one with --out {folder}") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UserError(f"{folder / 'run.json'} is damaged ({type(error).__name__}); "
                            f"start again with --out {folder} --overwrite") from None
        if not (folder / "checkpoint.pt").is_file():
            raise UserError(f"{folder} has no checkpoint.pt to resume from; start again with --out {folder} --overwrite")
        differ = [f"--{key.replace('_', '-')} {value} (the run has {settings[key]})"
                  for key, value in given.items() if value != settings[key]]
        if differ:
            raise UserError(f"resuming {folder} keeps its settings; drop " + ", ".join(differ))
        return folder, settings
    folder = args.out or Path("runs/latest")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file, not a folder")
    if any(parent.exists() and not parent.is_dir() for parent in folder.parents):
        raise UserError(f"--out {folder} lies under a file, not a folder")
    present = [name for name in RUN_FILES if (folder / name).exists()]
    if present and not args.overwrite:
        raise UserError(f"{folder} already holds a run ({', '.join(present)}): continue it with "
                        f"--resume {folder}, replace it with --overwrite, or choose another --out")
    return folder, {**TRAIN_DEFAULTS, **given}


def _train_checkpointed(trainer: Trainer, steps: int, every: int, save_checkpoint, folder: Path) -> None:
    """Train up to ``steps`` in all, calling ``save_checkpoint()`` every ``every`` steps, at the
    end and after a clean stop (Ctrl-C, SIGTERM); errors become one-line exceptions."""
    checkpoint = folder / "checkpoint.pt"
    try:
        while trainer.step < steps:
            trainer.train(min(every - trainer.step % every, steps - trainer.step))
            save_checkpoint()
            if trainer.stopped_by is not None:
                break
    except KeyboardInterrupt:  # a second Ctrl-C: stop at once, mid-step; keep the last checkpoint
        if checkpoint.exists() and (folder / "run.json").exists():
            raise Interrupted(f"stopped at once; {checkpoint} holds the last checkpoint "
                              f"(step {torch.load(checkpoint, weights_only=True)['step']}). "
                              f"Continue with --resume {folder}") from None
        raise Interrupted("stopped at once, before the first checkpoint: nothing was saved") from None
    except NonFiniteLossError as error:
        raise MachineError(f"{error} The last good checkpoint is {checkpoint}") from None


def cmd_train(args) -> tuple[dict, int]:
    folder, settings = _run_folder(args)
    device = _device(args.device)
    steps = args.steps or runtime.budget(full=3000, quick=30)
    conditional = settings["conditional"]
    images, labels = _images(device, labels=True)
    if settings["train_size"] is not None:
        try:
            images, labels = subset(images, settings["train_size"], seed=0, labels=labels)
        except ValueError as error:
            raise UserError(f"--train-size: {error}") from None
    labels = labels if conditional else None
    judge_and_real = _load_judge(device)
    make_g, g_kwargs, make_d = (CONDITIONAL_MODELS if conditional else MODELS)[settings["model"]]
    runtime.seed_everything(settings["seed"])
    generator, discriminator = make_g(**g_kwargs), make_d()
    checkpoint = folder / "checkpoint.pt"
    if args.resume is not None:
        try:
            trainer = Trainer.load(checkpoint, generator, discriminator, images, device, labels=labels)
        except Exception as error:  # truncated, damaged or not ours
            raise UserError(f"cannot resume from {checkpoint}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
                            ) from None
        saved = {key: getattr(trainer.config, name) for key, name in _CONFIG_FIELDS.items()}
        differ = [f"{key} {settings[key]!r} in run.json vs {value!r} in checkpoint.pt"
                  for key, value in saved.items() if settings[key] != value]
        if differ:
            raise UserError(f"{folder}'s run.json and checkpoint.pt disagree ({'; '.join(differ)}): "
                            f"start again with --out {folder} --overwrite")
        if trainer.step > steps:
            raise UserError(f"{folder} is already at step {trainer.step}; ask for --steps {trainer.step} or more")
    else:
        config = TrainConfig.preset(settings["loss"], **{name: settings[key] for key, name in _CONFIG_FIELDS.items()
                                                         if key != "loss"})
        trainer = Trainer(generator, discriminator, images, config, device, labels=labels)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):  # can we write there? (before any training)
                pass
        except OSError as error:
            raise UserError(f"cannot write into --out {folder}: {error.strerror or error}") from None

    def save_checkpoint() -> None:  # the checkpoint, then the settings that describe it
        _save("checkpoint", checkpoint, lambda tmp: torch.save(trainer.state_dict(), tmp))
        _save("run.json", folder / "run.json",
              lambda tmp: tmp.write_text(json.dumps({**settings, "steps": steps}, indent=2) + "\n"))

    _train_checkpointed(trainer, steps, args.checkpoint_every, save_checkpoint, folder)
    if trainer.generator_ema is not None:  # with --ema, the averaged generator is the one saved and judged
        generator = trainer.generator_ema
    _save("generator", folder / "generator.pt", lambda tmp: torch.save(
        {"model": settings["model"], "kwargs": g_kwargs, "state_dict": generator.state_dict(),
         **({"conditional": True} if conditional else {})}, tmp))
    history = trainer.history
    result = {**{key: settings[key] for key in ("model", "loss", "conditional", "ema", "r1", "r1_every", "augment",
                                                "train_size")}, "steps": trainer.step,
              "seconds": round(trainer.seconds, 2), "images_per_second": round(trainer.images_per_second, 1),
              "device": str(device), "out": str(folder), "final": history.rows[-1] if history.rows else None}
    if trainer.stopped_by is not None:
        print(f"interrupted: {checkpoint} holds step {trainer.step}; continue with --resume {folder}",
              file=sys.stderr)
        return {**result, "interrupted": True}, EXIT_SIGNAL.get(trainer.stopped_by, 130)
    n = args.samples or runtime.budget(full=10_000, quick=1000)
    result["judge"] = _judge(generator, n, settings["seed"], device, judge_and_real,
                             conditional)
    return result, EXIT_OK


# --- pretrain ------------------------------------------------------------------------------

def cmd_pretrain(args) -> tuple[dict, int]:
    """Train a recipe of :mod:`gancourse.pretrained` through the Trainer with checkpoints, then
    write NAME.pt (half precision) and NAME.json (the manifest with the judge's figures)."""
    import dataclasses

    name = args.name
    steps = args.steps or pretrained.recipe(name).steps
    weights = args.weights or pretrained._folder(None)
    if args.resume is not None:
        folder = args.resume
        if args.overwrite:
            raise UserError("--overwrite and --resume contradict each other: choose one")
        if not (folder / "checkpoint.pt").is_file():
            raise UserError(f"{folder} has no checkpoint.pt to resume from; start again with --out {folder} --overwrite")
    else:
        folder = args.out or Path(f"runs/pretrain-{name}")
        present = [file for file in ("checkpoint.pt", "run.json") if (folder / file).exists()]
        if present and not args.overwrite:
            raise UserError(f"{folder} already holds a run ({', '.join(present)}): continue it with "
                            f"--resume {folder}, replace it with --overwrite, or choose another --out")
    device = _device(args.device)
    conditional = pretrained.recipe(name).conditional
    images, labels = _images(device, labels=True)
    labels = labels if conditional else None
    judge_and_real = _load_judge(device)
    generator, discriminator, config = pretrained.build(name)
    checkpoint = folder / "checkpoint.pt"
    if args.resume is not None:
        try:
            trainer = Trainer.load(checkpoint, generator, discriminator, images, device, labels=labels)
        except Exception as error:  # truncated, damaged, not ours, or another recipe's models
            raise UserError(f"cannot resume from {checkpoint}: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
                            ) from None
        if dataclasses.asdict(trainer.config) != dataclasses.asdict(config):
            raise UserError(f"{checkpoint} was trained with another config than the recipe {name!r}; "
                            f"start again with --out {folder} --overwrite")
        if trainer.step > steps:
            raise UserError(f"{folder} is already at step {trainer.step}; ask for --steps {trainer.step} or more")
    else:
        trainer = Trainer(generator, discriminator, images, config, device, labels=labels)
    _train_checkpointed(trainer, steps, args.checkpoint_every, lambda: (
        _save("checkpoint", checkpoint, lambda tmp: torch.save(trainer.state_dict(), tmp)),
        _save("run.json", folder / "run.json",
              lambda tmp: tmp.write_text(json.dumps({"pretrained": name, "steps": steps}, indent=2) + "\n"))), folder)
    result = {"pretrained": name, "steps": trainer.step, "seconds": round(trainer.seconds, 1), "out": str(folder)}
    if trainer.stopped_by is not None:
        print(f"interrupted: {checkpoint} holds step {trainer.step}; continue with --resume {folder}", file=sys.stderr)
        return {**result, "interrupted": True}, EXIT_SIGNAL.get(trainer.stopped_by, 130)
    path = weights / f"{name}.pt"
    shipped = trainer.generator if trainer.generator_ema is None else trainer.generator_ema  # a recipe with EMA ships the average
    _save("weights", path, lambda tmp: pretrained.save(shipped, tmp, name))
    entry = {"name": name, "file": path.name, "sha256": pretrained._sha256(path), "bytes": path.stat().st_size,
             "storage": "float16 (loaded as float32)", "parameters": models.count_parameters(trainer.generator),
             **pretrained.describe(name), "steps": trainer.step,
             "command": f"python -m gancourse pretrain {name}"
             + (f" --steps {steps}" if steps != pretrained.recipe(name).steps else ""),
             "trained": {"seconds_training": round(trainer.seconds, 1), "device": str(device),
                         "threads": torch.get_num_threads(), "bfloat16_autocast": trainer.amp,
                         "torch": torch.__version__, "resumed": args.resume is not None}}
    manifest = weights / f"{name}.json"
    write = lambda: _save("manifest", manifest, lambda tmp: tmp.write_text(json.dumps(entry, indent=2) + "\n"))
    write()  # the file and its SHA-256 first; the figures are measured on the file as shipped
    loaded = pretrained.load(name, "cpu", folder=weights)
    entry["figures"] = [_finite(_judge(loaded, n, 0, torch.device("cpu"), judge_and_real,
                                       conditional)) for n in pretrained.FIGURE_SAMPLES]
    entry["figures_how"] = ("python -m gancourse evaluate --pretrained NAME [--samples N] on the CPU: N samples "
                            "from z ~ N(0, I) drawn with torch.Generator seed 0, against the first N MNIST test images"
                            + ("; the digits asked for 0, 1, ..., 9 in turn, and 'requested' judged against all "
                               "10,000 test images" if conditional else ""))
    write()
    return {**result, "weights": str(path), "bytes": entry["bytes"], "sha256": entry["sha256"],
            "figures": entry["figures"]}, EXIT_OK


# --- evaluate and modes ---------------------------------------------------------------------

def _evaluate_pretrained(args) -> tuple[dict, int]:
    """Judge a shipped generator as its manifest's figures were made; exit 1 if they differ."""
    name = args.pretrained
    try:
        generator = pretrained.load(name, "cpu")
    except (OSError, RuntimeError, ValueError) as error:
        raise UserError(str(error).splitlines()[0]) from None
    n = args.samples or runtime.budget(full=pretrained.FIGURE_SAMPLES[0], quick=pretrained.FIGURE_SAMPLES[1])
    # The manifests' figures are CPU figures: judged elsewhere they would differ by rounding alone.
    if args.device and args.device != "cpu":
        print(f"--pretrained is judged on the CPU, where its manifest's figures were made (not {args.device})",
              file=sys.stderr)
    device = torch.device("cpu")
    report = _finite(_judge(generator, n, args.seed, device, conditional=pretrained.recipe(name).conditional))
    expected = next((figure for figure in pretrained.manifest(name)["figures"] if figure["n"] == n), None)
    if expected is None or args.seed != 0:
        return {"pretrained": name, "judge": report, "manifest": None,
                "reproduced": None, "note": f"the manifest holds figures for seed 0 and N in "
                                            f"{list(pretrained.FIGURE_SAMPLES)} only"}, EXIT_OK
    differ = pretrained.differences(report, expected)
    result = {"pretrained": name, "judge": report, "manifest": expected, "reproduced": not differ}
    if differ:
        print(f"the figures differ from {name}'s manifest beyond the tolerance: {'; '.join(differ)}", file=sys.stderr)
        return {**result, "differences": differ}, EXIT_FAILED
    return result, EXIT_OK


def cmd_evaluate(args) -> tuple[dict, int]:
    if (args.generator is None) == (args.pretrained is None):
        raise UserError("give either a generator file or --pretrained NAME "
                        f"({', '.join(pretrained.names())}), not both or neither")
    if args.pretrained is not None:
        return _evaluate_pretrained(args)
    path = args.generator
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if path.is_dir():
        hint = f"; did you mean {path / 'generator.pt'}?" if (path / "generator.pt").exists() else ""
        raise UserError(f"{path} is a folder, not a generator file{hint}")
    if not path.is_file():
        raise UserError(f"{path} is not a regular file (a pipe or a device?)")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # a pickle with objects other than tensors: never run it
        raise UserError(f"{path} holds objects other than weights; the course loads weights only "
                        f"(weights_only=True), so it refuses this file") from None
    except Exception as error:  # empty, truncated, zeroed, text
        raise UserError(f"{path} is not a readable generator file: it is empty, truncated or not "
                        f"written by torch.save ({type(error).__name__})") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), str) or saved["model"] not in MODELS:
        raise UserError(f"{path} is not a generator saved by `python -m gancourse train`")
    device = _device(args.device)
    conditional = saved.get("conditional") is True
    try:
        generator = (CONDITIONAL_MODELS if conditional else MODELS)[saved["model"]][0](**dict(saved["kwargs"]))
        generator.load_state_dict(saved["state_dict"])
    except Exception as error:  # the weights do not fit the model it names
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: the weights do not fit a {saved['model']} generator ({first[:160]})") from None
    broken = [name for name, tensor in generator.state_dict().items()
              if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if broken:
        raise UserError(f"{path} holds NaN or Inf weights (in {', '.join(broken[:3])}): the run diverged "
                        f"or the file is damaged; evaluate an earlier checkpoint")
    n = args.samples or runtime.budget(full=10_000, quick=1000)
    return {"generator": str(path), "model": saved["model"], "conditional": conditional,
            "judge": _judge(generator.to(device), n, args.seed, device,
                            conditional=conditional)}, EXIT_OK


def cmd_modes(args) -> tuple[dict, int]:
    steps = args.steps or runtime.budget(full=5000, quick=50)
    if 256 % args.pack:
        raise UserError(f"--pack {args.pack} does not divide the batch of 256 samples: use 1, 2, 4, 8, ... 256")
    result = toy.mode_experiment(args.dataset, args.loss, args.seeds, steps, pack=args.pack,
                                 device=_device(args.device))
    if result["interrupted"] is not None:
        print(f"interrupted ({result['interrupted']}): the table covers {len(result['runs'])} of "
              f"{args.seeds} seeds at {result['steps']} steps", file=sys.stderr)
        return result, EXIT_SIGNAL.get(getattr(signal, result["interrupted"]), 130)
    return result, EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "modes": cmd_modes, "pretrain": cmd_pretrain}[args.command]
    prefix = f"python -m gancourse {args.command}: error:"
    try:
        runtime.is_quick()  # a bad GANCOURSE_QUICK fails now, not after training
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON result only
            result, code = command(args)
    except UserError as error:
        print(f"{prefix} {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MachineError as error:
        print(f"{prefix} {error}", file=sys.stderr)
        return EXIT_FAILED
    except ValueError as error:  # a setting the library refused (e.g. GANCOURSE_QUICK=maybe)
        print(f"{prefix} {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Interrupted as error:
        print(f"{prefix} {error}", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]
    except (MemoryError, RuntimeError) as error:
        if not isinstance(error, MemoryError) and "alloc" not in str(error) and "out of memory" not in str(error):
            raise
        print(f"{prefix} out of memory; try a smaller --batch-size or --samples", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prefix} interrupted", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]
    print(json.dumps(_finite(result), indent=2, allow_nan=False))
    return code
