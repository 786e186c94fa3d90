"""Learner decisions for the six judgment exercises (lessons 00-05), each with the verdict the evidence gives it.

Every decision below was made from the exercise notebooks' texts (exercises/*.ipynb), the lessons,
and the evidence the exercise's own cell shows (its printed table or plot, run as the notebook runs
it), as a learner would, without looking at how the checks work. Right decisions come in the
spellings a learner plausibly types and the prompt allows (case, spaces, the synonyms it names,
dict or list where it offers both); wrong decisions carry a `mistake` string saying why the
evidence rules them out, and a `hint`: a distinctive part of the message the check should give
for that mistake (a number from the exhibit that shows it, or, for inputs that are not a decision
at all, the options the prompt names). Where the check's message explains the mistake correctly,
with the evidence, in other words or rounding (e.g. "largest 1.85" for the printed max 1.855), the hint
is a distinctive part of that message instead; verdicts were never changed. The evidence, as the
exercise cells print it:

- 00 Ex 3: A ToTensor() 0.000..1.000; B + Normalize(0.5, 0.5) -1.000..1.000;
  C + Normalize(0.1307, 0.3081) -0.424..2.821.  Right: B.
- 01 Ex 7: |dL/dt| at D(G(z)) = 1e-4: A 1.00e-04, B 1.00e-04, C 1.00e+00.  Right: C.
- 02 Ex 5: A calm losses but digit shares 1:58% 7:33% (collapse); B D(x) 0.977, D(G(z)) 0.010,
  loss_g 6.2, grad_norm_g 0.055 (discriminator wins); C shares 8%..12%, confident 84% (healthy).
- 03 Ex 5: A FD min 9.2 at 8,000 then rising to 26.4 at 20,000; B falling steadily, 10.3 at 20,000;
  C flat near 10 since 5,000 (10.2 at 20,000).  Continue: B (the only one still improving).
- 04 Ex 3: PacGAN Table 1 on the grid: GAN 17.3 +- 0.8 modes, PacGAN2 23.8 +- 0.7; lesson 04's full
  run 20.2 against 24.8.  Right: PacGAN2.
- 05 Ex 6: ||grad f|| max: A 6.584 (above 1 at 96%), B 1.855 (above 1 at 61%, mean 1.000),
  C 0.105 (0%).  1-Lipschitz means ||grad f|| <= 1 everywhere (lesson 05, section 4): C.

The single parametrized test calls the exercise's check exactly as its check cell does (for lesson
04, with the `measured` dict that the exercise's cell computes, computed here the same way): a
"pass" decision must not raise; a "fail" one must raise AssertionError (any other exception, or
none, fails the test) whose hint (the text after "Hint:", or the whole message where it has no such
line) contains the case's `hint`. No verdict is adjusted to what the checks currently do.

    OMP_NUM_THREADS=1 GANCOURSE_QUICK=1 GANCOURSE_DATA=... pytest -q tests/test_learner_decisions.py -p no:cacheprovider
"""
from __future__ import annotations

import pytest

from gancourse import runtime, toy

pytest.register_assert_rewrite("learner_cases")  # its asserts report as a test's own do
from learner_cases import Case, Registry, assert_verdict  # noqa: E402  (the shared harness, tests/learner_cases.py)

# Case.answer: the learner's decision, as assigned in the exercise cell; mistake: why the evidence
# rules it out; measured=True: the check cell also passes the exercise's `measured` (lesson 04).
# ok(check, id, answer, style): a right decision, in one learner's spelling; bad(check, id, answer,
# mistake, hint): a wrong decision (or not a decision), and a distinctive part of the hint that names
# its mistake. The checks are called without seeding torch first.
registry = Registry(seed=None)
CASES: list[Case] = registry.cases
case, ok, bad = registry.case, registry.ok_value, registry.bad_value


# =============================================================================================
# 00 · Exercise 3: which preprocessing pipeline feeds a tanh generator ('A', 'B' or 'C')
# =============================================================================================
C = "check_tanh_pipeline"
ABC = "one of 'A', 'B', 'C'"  # the check's wording (the prompt's is "'A', 'B' or 'C'")

ok(C, "pipe-B", "B", "the capital letter, as the prompt shows it")
ok(C, "pipe-b-lower", "b", "lower case")
ok(C, "pipe-B-spaces", "  B ", "stray spaces around it")
ok(C, "pipe-B-newline", "B\n", "a trailing newline (pasted)")
bad(C, "pipe-A-unit-range", "A",
    "ToTensor alone gives values 0.000 to 1.000: never negative, while tanh outputs reach -1, so real "
    "and generated images differ in range", hint="values in [0, 1]")
bad(C, "pipe-a-lower", "a", "pipeline A, in lower case: still [0, 1]", hint="values in [0, 1]")
bad(C, "pipe-C-mnist-stats", "C",
    "Normalize with MNIST's mean/std (the classifier recipe) gives -0.424 to 2.821: beyond tanh's reach "
    "above 1, and never down to -1", hint="2.821")
bad(C, "pipe-c-lower", " c", "pipeline C, lower case with a space: still -0.424 to 2.821", hint="2.821")
bad(C, "pipe-hedge", "B or C", "hedges between two pipelines: not one decision", hint=ABC)
bad(C, "pipe-none", None, "left the placeholder None: no decision", hint=ABC)
bad(C, "pipe-empty", "", "an empty string: no decision", hint=ABC)
bad(C, "pipe-D-no-such", "D", "there is no pipeline D", hint=ABC)
bad(C, "pipe-int", 2, "the pipeline's position, not its letter (and not a string)", hint=ABC)
bad(C, "pipe-list", ["B"], "a list holding the letter, not the string the prompt asks for", hint=ABC)


# =============================================================================================
# 01 · Exercise 7: which generator loss still gives a gradient when D rejects (D(G(z)) ~ 1e-4)
# =============================================================================================
C = "check_loss_when_d_wins"

ok(C, "loss-C", "C", "the capital letter")
ok(C, "loss-c-lower", "c", "lower case")
ok(C, "loss-C-spaces", " C  ", "stray spaces")
bad(C, "loss-A-saturating", "A",
    "A's gradient is D(G(z)) itself: 1.00e-04 at D(G(z)) = 1e-4 (the saturating minimax loss), "
    "so the generator learns almost nothing", hint="1.0e-04")
bad(C, "loss-A-largest-at-half", "a",
    "picked A for its 0.5 at D(G(z)) = 0.5 (the largest in the first row), but the question is about "
    "D(G(z)) ~ 1e-4, where A gives 1.00e-04", hint="1.0e-04")
bad(C, "loss-B-vanishing", "B",
    "B's gradient also vanishes with D(G(z)): 1.00e-04 at 1e-4, 1.00e-06 at 1e-6", hint="1.0e-04")
bad(C, "loss-b-lower", " b ", "loss B, lower case with spaces: 1.00e-04 at 1e-4", hint="1.0e-04")
bad(C, "loss-none", None, "left the placeholder None", hint=ABC)
bad(C, "loss-empty", "", "an empty string", hint=ABC)
bad(C, "loss-D-no-such", "D", "there is no loss D", hint=ABC)
bad(C, "loss-int", 3, "a number, not one of the letters", hint=ABC)
bad(C, "loss-name", "non-saturating", "the loss's name instead of its letter (the exercise hides which is which)",
    hint=ABC)


# =============================================================================================
# 02 · Exercise 5: verdicts on three training runs (dict A/B/C, or list in order A, B, C)
# =============================================================================================
C = "check_run_verdicts"
RIGHT = {"A": "collapse", "B": "discriminator wins", "C": "healthy"}

ok(C, "verdicts-dict", dict(RIGHT), "a dict with the prompt's three words")
ok(C, "verdicts-list", ["collapse", "discriminator wins", "healthy"], "a list in the order A, B, C")
ok(C, "verdicts-synonyms", {"A": "mode collapse", "B": "D wins", "C": "healthy"}, "the accepted synonyms")
ok(C, "verdicts-case-spaces", {"A": " Collapse", "B": "Discriminator Wins ", "C": "HEALTHY"}, "mixed case, stray spaces")
ok(C, "verdicts-dict-other-order", {"C": "healthy", "A": "Mode Collapse", "B": "d wins"}, "keys in another order")
ok(C, "verdicts-inner-spaces", {"A": "mode  collapse", "B": "discriminator  wins", "C": "healthy"},
   "a double space inside the words (spaces do not matter)")
ok(C, "verdicts-lower-keys", {"a": "collapse", "b": "discriminator wins", "c": "healthy"},
   "lower-case keys (case does not matter)")
bad(C, "verdicts-A-healthy-C-collapse", {"A": "healthy", "B": "discriminator wins", "C": "collapse"},
    "A's losses look calm, but its digit shares are 1:58% and 7:33% (collapse); C's shares are all 8%..12%",
    hint="two digits (1 and 7)")
bad(C, "verdicts-list-reversed", ["healthy", "discriminator wins", "collapse"],
    "the list read as C, B, A: A is the collapsed run (1:58%, 7:33%)", hint="two digits (1 and 7)")
bad(C, "verdicts-A-healthy", {"A": "healthy", "B": "discriminator wins", "C": "healthy"},
    "judged A by its calm losses alone: its histogram has 1:58%, 7:33%", hint="two digits (1 and 7)")
bad(C, "verdicts-B-collapse", {"A": "collapse", "B": "collapse", "C": "healthy"},
    "B's D(x) 0.977 and D(G(z)) 0.010 with loss_g 6.2 and a tiny generator gradient is the discriminator "
    "winning, not collapse (its digit shares are spread)", hint="0.01")
bad(C, "verdicts-C-collapse", {"A": "collapse", "B": "discriminator wins", "C": "collapse"},
    "C's digit shares are all between 8% and 12%: no collapse", hint="12%")
bad(C, "verdicts-unknown-word", {"A": "collapse", "B": "vanishing gradients", "C": "healthy"},
    "'vanishing gradients' is not one of the three verdicts", hint="discriminator wins")
bad(C, "verdicts-oscillation", {"A": "collapse", "B": "oscillation", "C": "healthy"},
    "'oscillation' is a pattern lesson 02 names, but not one of this exercise's three verdicts (and B's "
    "D(x) -> 1, D(G(z)) -> 0 is the discriminator winning)", hint="discriminator wins")
bad(C, "verdicts-B-healthy", {"A": "collapse", "B": "healthy", "C": "healthy"},
    "B's digit shares are spread, but D(x) 0.977, D(G(z)) 0.010, loss_g 6.2 and only 6% confident "
    "samples: the discriminator wins", hint="0.01")
bad(C, "verdicts-B-none", {"A": "collapse", "B": None, "C": "healthy"}, "run B's verdict left as None",
    hint="run B")
bad(C, "verdicts-missing-B", {"A": "collapse", "C": "healthy"}, "no verdict for run B", hint="'B'")
bad(C, "verdicts-list-of-two", ["collapse", "discriminator wins"], "a list of two verdicts for three runs",
    hint="three")
bad(C, "verdicts-none", None, "left the placeholder None", hint="'A'")
bad(C, "verdicts-string", "collapse", "one string, not a verdict per run", hint="'A'")


# =============================================================================================
# 03 · Exercise 5: which DCGAN run to continue for 20,000 more steps ('A', 'B' or 'C')
# =============================================================================================
C = "check_run_to_continue"

ok(C, "continue-B", "B", "the capital letter")
ok(C, "continue-b-lower", "b", "lower case")
ok(C, "continue-B-spaces", " B ", "stray spaces")
bad(C, "continue-A-diverging", "A",
    "A reached its best FD 9.2 at step 8,000 and has risen since, to 26.4 at 20,000: more training "
    "makes it worse", hint="26.4")
bad(C, "continue-a-best-ever", "a",
    "picked A for the lowest point of any curve (9.2 at 8,000), but A is diverging now: 26.4 at 20,000",
    hint="26.4")
bad(C, "continue-C-lowest-last", "C",
    "C has the lowest last FD (10.2) but has been flat near 10 since step 5,000: 20,000 more steps buy "
    "nothing, while B still falls", hint="10.2")
bad(C, "continue-c-lower", " c", "run C, lower case: plateaued at 10.2", hint="10.2")
bad(C, "continue-hedge", "B, C", "two runs, when only one can be trained further", hint=ABC)
bad(C, "continue-none", None, "left the placeholder None", hint=ABC)
bad(C, "continue-empty", "", "an empty string", hint=ABC)
bad(C, "continue-D-no-such", "D", "there is no run D", hint=ABC)
bad(C, "continue-list", ["B"], "a list, not the string the prompt asks for", hint=ABC)


# =============================================================================================
# 04 · Exercise 3: predict GAN vs PacGAN2 vs 'same' on the grid (check gets `measured` too)
# =============================================================================================
C = "check_coverage_prediction"
OPTIONS = "one of 'PacGAN2', 'GAN', 'same'"  # the check's wording

ok(C, "predict-PacGAN2", "PacGAN2", "as the prompt spells it", measured=True)
ok(C, "predict-pacgan2-lower", "pacgan2", "lower case", measured=True)
ok(C, "predict-PACGAN2-upper", "PACGAN2", "upper case", measured=True)
ok(C, "predict-PacGAN-space-2", "PacGAN 2", "a space before the 2 (spaces do not matter)", measured=True)
ok(C, "predict-packed", "packed", "the accepted synonym", measured=True)
ok(C, "predict-Packed-spaces", " Packed ", "the synonym, capitalised, with spaces", measured=True)
bad(C, "predict-GAN", "GAN",
    "PacGAN's Table 1 has the ordinary GAN at 17.3 of 25 grid modes against PacGAN2's 23.8 "
    "(lesson 04's full run: 20.2 against 24.8)", hint="17.3", measured=True)
bad(C, "predict-gan-lower", "gan", "the ordinary GAN, lower case: 17.3 against 23.8", hint="17.3", measured=True)
bad(C, "predict-same", "same",
    "a tie: the published gap, 17.3 +- 0.8 against 23.8 +- 0.7, is many standard errors wide",
    hint="23.8", measured=True)
bad(C, "predict-Same-upper", "Same ", "a tie, capitalised: still 17.3 against 23.8", hint="23.8", measured=True)
bad(C, "predict-none", None, "left the placeholder None", hint=OPTIONS, measured=True)
bad(C, "predict-empty", "", "an empty string", hint=OPTIONS, measured=True)
bad(C, "predict-minibatch-std", "minibatch std", "not one of the two GANs in this race", hint=OPTIONS,
    measured=True)
bad(C, "predict-int", 2, "the pack size, not a prediction string", hint=OPTIONS, measured=True)


# =============================================================================================
# 05 · Exercise 6: which critic is 1-Lipschitz, from its gradient norms ('A', 'B' or 'C')
# =============================================================================================
C = "check_lipschitz_critic"

ok(C, "lipschitz-C", "C", "the capital letter")
ok(C, "lipschitz-c-lower", "c", "lower case")
ok(C, "lipschitz-C-spaces", "\tC ", "a tab and a space")
bad(C, "lipschitz-B-norms-near-1", "B",
    "B's norms centre on 1 (mean 1.000, as a gradient penalty would make them), but they reach 1.855 and "
    "exceed 1 at 61% of the points: not 1-Lipschitz", hint="largest 1.85")
bad(C, "lipschitz-b-lower", "b", "critic B, lower case: max 1.855", hint="largest 1.85")
bad(C, "lipschitz-A-unconstrained", "A",
    "A's norms reach 6.584 and exceed 1 at 96% of the points", hint="largest 6.58")
bad(C, "lipschitz-a-lower", " a", "critic A, lower case: max 6.584", hint="largest 6.58")
bad(C, "lipschitz-none", None, "left the placeholder None", hint=ABC)
bad(C, "lipschitz-empty", "", "an empty string", hint=ABC)
bad(C, "lipschitz-D-no-such", "D", "there is no critic D", hint=ABC)
bad(C, "lipschitz-list", ["C"], "a list, not the string the prompt asks for", hint=ABC)


# =============================================================================================

_measured: dict = {}


def _coverage_measured() -> dict:
    """What exercises/04_mode_collapse.ipynb, Exercise 3's cell computes and passes to the check."""
    if not _measured:
        device = runtime.pick_device()
        coverage_seeds, coverage_steps = runtime.budget(full=3, quick=2), runtime.budget(full=3000, quick=60)
        for name, options in {"GAN": {}, "PacGAN2": {"pack": 2}}.items():
            result = toy.mode_experiment("grid", seeds=coverage_seeds, steps=coverage_steps, n_critic=3,
                                         device=device, progress=False, **options)
            _measured[name] = result["summary"]["modes"]["mean"]
    return dict(_measured)


@pytest.mark.parametrize("case", CASES, ids=registry.ids())
def test_learner_decision(case: Case):
    assert_verdict(case, measured=_coverage_measured)
