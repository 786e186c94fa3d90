"""Training-health warnings: the signs of a GAN going wrong, read from what training records.

    from gancourse import health
    health.check(history.rows)                  # [] on a healthy run
    health.check(rows, diversity={"the judge's digit entropy": [(0, 0.6), (500, 2.2), (1000, 1.5), (1500, 1.1)]})

Three signs, each a pure function of History rows (or of a series of (step, value) points):

- **the discriminator wins**: mean D(x) near 1 and mean D(G(z)) near 0 for ``window`` log rows
  in a row; the generator's gradient then carries little information (GAN losses only: a
  critic's scores are not probabilities);
- **collapse suspected**: a diversity measure, the judge's digit entropy or the 2-D mode count,
  fell well below its best value of the run at the last ``patience`` points;
- **non-finite gradients**: a gradient norm is NaN or Inf at a log row while the losses are still
  finite; the next update makes the weights, then the losses, NaN.

The Trainer runs :class:`Monitor` at every log row: a new warning goes to ``history.warnings``,
to stderr above the progress bar, and the bar's postfix names what is active. Diversity comes from
the ``on_snapshot`` callbacks that already measure it: rows with a ``histogram`` (the judge's
``metrics.JudgeCurve``: its digit entropy) or a ``modes`` column (a mode count).
Layer 0: imports nothing from the package (docs/design.md, Layers).
"""
from __future__ import annotations

import math

#: What a warning can say; a warning is a dict {"step", "kind", "message"} (checkpoints keep it).
KINDS = ("discriminator wins", "collapse suspected", "non-finite gradients")
#: The best value a diversity measure must have reached before a fall counts as collapse: an
#: untrained generator's blobs are all read as one or two digits, and that is no collapse.
DIVERSE = {"the judge's digit entropy": math.log(4), "the mode count": 3}


def discriminator_wins(rows: list[dict], window: int = 5, real: float = 0.9, fake: float = 0.1) -> str | None:
    """A message when the last ``window`` rows all have d_real >= ``real`` and d_fake <= ``fake``."""
    last = rows[-window:]
    if len(last) < window or not all(r["d_real"] >= real and r["d_fake"] <= fake for r in last):
        return None
    return (f"the discriminator wins: D(x) >= {real} and D(G(z)) <= {fake} for {window} log rows "
            f"(steps {last[0]['step']}-{last[-1]['step']}); the generator learns little. Try a lower "
            f"lr_d, the non-saturating loss, or dropout/noise in the discriminator.")


def collapse(series: list[tuple[int, float]], name: str, drop: float = 0.2, patience: int = 2,
             least: float | None = None) -> str | None:
    """A message when the last ``patience`` values of ``series`` ((step, value), value >= 0, higher
    is more diverse) are all below (1 - ``drop``) times the best value before them, and that best
    reached ``least`` (default: ``DIVERSE[name]``, else anything above 0)."""
    if len(series) <= patience:
        return None
    best = max(value for _, value in series[:-patience])
    recent = [value for _, value in series[-patience:]]
    least = DIVERSE.get(name, 0.0) if least is None else least
    if best <= 0 or best < least or not all(value < (1 - drop) * best for value in recent):
        return None
    return (f"collapse suspected: {name} fell from {best:.3g} (best so far) to {recent[-1]:.3g} at step "
            f"{series[-1][0]}; look at the samples. Packing, minibatch std or a WGAN loss help (lesson 04).")


def nonfinite_gradients(row: dict) -> str | None:
    """A message when a gradient norm of ``row`` is NaN or Inf while its losses are finite."""
    broken = [name for name, key in (("discriminator", "grad_norm_d"), ("generator", "grad_norm_g"))
              if not math.isfinite(row[key])]
    if not broken or not (math.isfinite(row["loss_d"]) and math.isfinite(row["loss_g"])):
        return None
    return (f"non-finite gradients: the {' and '.join(broken)}'s gradient norm is "
            f"{', '.join(str(row[k]) for k in ('grad_norm_d', 'grad_norm_g') if not math.isfinite(row[k]))} "
            f"at step {row['step']} while the losses are finite; the weights turn NaN next. Lower the "
            f"learning rate, set grad_clip_norm, or check the loss for log(0).")


def digit_entropy(histogram: list[float]) -> float:
    """Entropy in nats of a digit histogram (log 10 = 2.30 when every digit is equally common)."""
    total = sum(histogram)
    return max(0.0, -sum(p / total * math.log(p / total) for p in histogram if p > 0)) if total > 0 else 0.0


def diversity_series(callbacks) -> dict[str, list[tuple[int, float]]]:
    """The diversity measures recorded by snapshot callbacks: ``rows`` with a ``histogram``
    (digit entropy) or ``modes`` (mode count), as {name: [(step, value), ...]}."""
    found = {}
    for callback in callbacks:
        rows = getattr(callback, "rows", None)
        if not isinstance(rows, list) or not rows or not isinstance(rows[-1], dict):
            continue
        if "histogram" in rows[-1]:
            found["the judge's digit entropy"] = [(r["step"], digit_entropy(r["histogram"])) for r in rows]
        elif "modes" in rows[-1]:
            found["the mode count"] = [(r["step"], float(r["modes"])) for r in rows]
    return found


def check(rows: list[dict], critic: bool = False, diversity: dict | None = None,
          gradients_measured: bool = True) -> list[dict]:
    """The warnings that hold at the last row of ``rows``. ``critic``: Wasserstein scores (no
    "discriminator wins"); ``diversity``: {name: [(step, value), ...]}; ``gradients_measured``:
    whether the last row's gradient norms were computed (the Trainer computes them at log steps)."""
    if not rows:
        return []
    step = rows[-1]["step"]
    found = [] if critic else [("discriminator wins", discriminator_wins(rows))]
    found += [("collapse suspected", collapse(series, name)) for name, series in (diversity or {}).items()]
    if gradients_measured:
        found.append(("non-finite gradients", nonfinite_gradients(rows[-1])))
    return [{"step": step, "kind": kind, "message": message} for kind, message in found if message]


class Monitor:
    """Runs :func:`check` at each log row and reports each warning when it starts (again after it
    cleared), not at every row while it lasts."""

    def __init__(self, critic: bool = False):
        self.critic = critic
        self.active: set[str] = set()

    def update(self, rows: list[dict], callbacks=(), gradients_measured: bool = True) -> list[dict]:
        """The warnings that start at the last row."""
        now = check(rows, self.critic, diversity_series(callbacks), gradients_measured)
        new = [warning for warning in now if warning["kind"] not in self.active]
        self.active = {warning["kind"] for warning in now}
        return new

    def postfix(self) -> dict:
        """For the progress bar: {"warn": "..."} while a warning holds, else {}."""
        return {"warn": ", ".join(kind for kind in KINDS if kind in self.active)} if self.active else {}
