"""Tests for lrcourse.schedules.

Schedules that PyTorch also has are checked step by step against ``torch.optim.lr_scheduler`` (Python
floats, i.e. float64); the others against closed forms written out here with ``math``. Hypothesis
checks the properties every schedule should have (decays never increase, warm-up endpoints, the
1cycle peak, staircase plateaus, array input == scalar input).
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lrcourse import schedules as S

FAST = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------------------------------
# Helpers: run a torch scheduler and record the rate before the first step and after each step
# ---------------------------------------------------------------------------------------------------


def _optimizer(lr, kind="sgd"):
    param = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    if kind == "adam":
        return torch.optim.Adam([param], lr=lr)
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


def torch_rates(make_scheduler, lr, n_steps, kind="sgd"):
    """Rates (and momenta) at steps 0..n_steps of ``make_scheduler(optimizer)``."""
    opt = _optimizer(lr, kind)
    scheduler = make_scheduler(opt)
    group = opt.param_groups[0]

    def momentum():
        return group["betas"][0] if kind == "adam" else group["momentum"]

    rates, momenta = [group["lr"]], [momentum()]
    for _ in range(n_steps):
        opt.step()
        scheduler.step()
        rates.append(group["lr"])
        momenta.append(momentum())
    return np.array(rates), np.array(momenta)


def ours(schedule, n_steps):
    """A schedule at steps 0..n_steps, evaluated one scalar at a time."""
    return np.array([schedule(t) for t in range(n_steps + 1)])


# ---------------------------------------------------------------------------------------------------
# Against torch.optim.lr_scheduler
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr0, step_size, gamma", [(0.1, 30, 0.1), (1.0, 7, 0.5), (0.3, 1, 0.9)])
def test_step_decay_matches_torch_steplr(lr0, step_size, gamma):
    n = 120
    expected, _ = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), lr0, n)
    s = S.step_decay(lr0, step_size, gamma)
    np.testing.assert_allclose(ours(s, n), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(s(np.arange(n + 1)), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("lr0, milestones, gamma", [(0.1, [30, 60, 90], 0.1), (2.0, [1, 2, 50], 0.5), (0.5, [], 0.1)])
def test_multistep_decay_matches_torch_multisteplr(lr0, milestones, gamma):
    n = 120
    expected, _ = torch_rates(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma), lr0, n)
    s = S.multistep_decay(lr0, milestones, gamma)
    np.testing.assert_allclose(ours(s, n), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(s(np.arange(n + 1)), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("lr0, gamma", [(0.2, 0.95), (1.0, 0.5), (0.01, 1.0)])
def test_exponential_decay_matches_torch_exponentiallr(lr0, gamma):
    n = 100
    expected, _ = torch_rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma), lr0, n)
    s = S.exponential_decay(lr0, decay_rate=gamma)
    np.testing.assert_allclose(ours(s, n), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("lr0, total_steps, lr_min", [(0.1, 100, 0.0), (1.0, 37, 0.05), (0.5, 1, 0.1)])
def test_cosine_decay_matches_torch_cosineannealinglr(lr0, total_steps, lr_min):
    expected, _ = torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total_steps, eta_min=lr_min),
        lr0,
        total_steps,
    )
    s = S.cosine_decay(lr0, total_steps, lr_min)
    # torch's rate is recursive, so it drifts by a few ulps from the closed form
    np.testing.assert_allclose(ours(s, total_steps), expected, rtol=1e-10, atol=1e-14)
    # after T ours holds lr_min (torch's would climb back up)
    assert s(total_steps + 1) == s(3 * total_steps) == pytest.approx(lr_min, abs=1e-15)


@pytest.mark.parametrize("lr0, total_steps, lr_end", [(0.1, 50, 0.0), (1.0, 13, 0.25), (0.3, 1, 0.3)])
def test_linear_decay_matches_torch_linearlr(lr0, total_steps, lr_end):
    n = total_steps + 20  # both hold the final value afterwards
    expected, _ = torch_rates(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=lr_end / lr0, total_iters=total_steps
        ),
        lr0,
        n,
    )
    s = S.linear_decay(lr0, total_steps, lr_end)
    np.testing.assert_allclose(ours(s, n), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("lr0, total_steps, power", [(0.1, 50, 1.0), (1.0, 20, 2.0), (0.5, 9, 0.5)])
def test_polynomial_decay_matches_torch_polynomiallr(lr0, total_steps, power):
    n = total_steps + 20
    expected, _ = torch_rates(
        lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=total_steps, power=power), lr0, n
    )
    s = S.polynomial_decay(lr0, total_steps, lr_end=0.0, power=power)
    np.testing.assert_allclose(ours(s, n), expected, rtol=1e-10, atol=1e-14)


ONE_CYCLE_CASES = [
    dict(max_lr=1.0, total_steps=100, pct_start=0.3, anneal_strategy="cos", three_phase=False),
    dict(max_lr=0.5, total_steps=37, pct_start=0.25, anneal_strategy="linear", three_phase=False),
    dict(max_lr=0.1, total_steps=50, pct_start=0.2, anneal_strategy="cos", three_phase=True,
         div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=2.0, total_steps=23, pct_start=0.4, anneal_strategy="linear", three_phase=True),
    dict(max_lr=1.0, total_steps=10, pct_start=0.0, anneal_strategy="cos", three_phase=False),
    dict(max_lr=1.0, total_steps=10, pct_start=0.0, anneal_strategy="linear", three_phase=True),
    dict(max_lr=1.0, total_steps=10, pct_start=1.0, anneal_strategy="cos", three_phase=False),
    dict(max_lr=0.3, total_steps=1, pct_start=0.3, anneal_strategy="cos", three_phase=False),
]


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("case", ONE_CYCLE_CASES)
def test_one_cycle_and_its_momentum_match_torch_onecyclelr(case, kind):
    T = case["total_steps"]
    momenta = dict(base_momentum=0.8, max_momentum=0.93)
    rates, moms = torch_rates(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **case, **momenta), 1.0, T - 1, kind
    )
    s = S.one_cycle(**case)
    m = S.one_cycle_momentum(
        T, case["pct_start"], anneal_strategy=case["anneal_strategy"], three_phase=case["three_phase"], **momenta
    )
    np.testing.assert_allclose(ours(s, T - 1), rates, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours(m, T - 1), moms, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s(np.arange(T)), rates, rtol=1e-12, atol=1e-15)
    # after the cycle both hold their final value
    for late in (T, T + 1, 10 * T):
        assert s(late) == s(T - 1)
        assert m(late) == m(T - 1)


def test_one_cycle_defaults_match_torch_and_end_at_the_tiny_rate():
    T = 200
    rates, moms = torch_rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=T), 1.0, T - 1)
    np.testing.assert_allclose(ours(S.one_cycle(0.1, T), T - 1), rates, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours(S.one_cycle_momentum(T), T - 1), moms, rtol=1e-12, atol=1e-15)
    assert S.one_cycle(0.1, T)(0) == pytest.approx(0.1 / 25)
    assert S.one_cycle(0.1, T)(T - 1) == pytest.approx(0.1 / 25 / 1e4)


def test_one_cycle_zero_length_first_phase_is_at_its_peak():
    # pct_start * total_steps == 1 puts the end of phase 1 at step 0, where torch divides by zero;
    # we take the phase's end value
    assert S.one_cycle(1.0, total_steps=10, pct_start=0.1)(0) == 1.0
    assert S.one_cycle_momentum(total_steps=10, pct_start=0.1)(0) == 0.85


def _metric_walk(seed, n, mode):
    """A noisy metric with plateaus, tiny improvements (below the threshold) and relapses."""
    rng = np.random.default_rng(seed)
    moves = rng.choice([-0.5, -1e-5, 0.0, 0.0, 0.0, 0.2], size=n)
    walk = 20.0 + np.cumsum(moves)
    return list(walk if mode == "min" else 40.0 - walk)


PLATEAU_CASES = [
    dict(mode="min", threshold_mode="rel", factor=0.5, patience=3, cooldown=2, min_lr=1e-3),
    dict(mode="min", threshold_mode="abs", factor=0.1, patience=2, cooldown=0, threshold=1e-3),
    dict(mode="max", threshold_mode="rel", factor=0.5, patience=1, cooldown=3, threshold=1e-3),
    dict(mode="max", threshold_mode="abs", factor=0.3, patience=0, cooldown=1, min_lr=0.01),
]


@pytest.mark.parametrize("lr0", [0.1, 5e-8])  # 5e-8: the eps rule stops the reductions near 1e-8
@pytest.mark.parametrize("case", PLATEAU_CASES)
def test_reduce_on_plateau_matches_torch(case, lr0):
    metrics = _metric_walk(seed=7, n=120, mode=case["mode"])
    opt = _optimizer(lr0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **case)
    plateau = S.ReduceOnPlateau(lr0, **case)
    cooled, seen = False, []
    for metric in metrics:
        opt.step()
        reference.step(metric)
        seen.append(plateau.step(metric))
        assert seen[-1] == opt.param_groups[0]["lr"]
        assert plateau.lr == opt.param_groups[0]["lr"]
        assert plateau.best == reference.best
        assert plateau.num_bad_epochs == reference.num_bad_epochs
        assert plateau.cooldown_counter == reference.cooldown_counter
        cooled |= plateau.cooldown_counter > 0
    # the walk triggered several reductions (at least one before eps stops them at lr0 = 5e-8,
    # none when min_lr is above lr0 already)
    if case.get("min_lr", 0.0) >= lr0:
        assert set(seen) == {lr0}
    else:
        assert len(set(seen)) >= (3 if lr0 == 0.1 else 2)
    assert cooled == (case["cooldown"] > 0)
    assert plateau.last_epoch == len(metrics)


def test_reduce_on_plateau_eps_and_min_lr_stop_the_reductions():
    flat = [1.0] * 200
    tiny = S.ReduceOnPlateau(5e-8, factor=0.5, patience=0)
    assert [tiny.step(m) for m in flat][-1] == 5e-8 / 4  # 5e-8 -> 2.5e-8 -> 1.25e-8, then a cut < eps
    floored = S.ReduceOnPlateau(0.1, factor=0.1, patience=0, min_lr=0.003)
    assert [floored.step(m) for m in flat][-1] == 0.003


# ---------------------------------------------------------------------------------------------------
# Against closed forms written here
# ---------------------------------------------------------------------------------------------------


def test_inverse_time_decay_reproduces_the_lecture_table():
    # alpha = alpha0 / (1 + decay_rate * epoch), alpha0 = 0.2, decay_rate = 1 (the notes misprint 0.67)
    s = S.inverse_time_decay(0.2, decay_rate=1.0)
    assert [round(s(epoch), 4) for epoch in (1, 2, 3, 4)] == [0.1, 0.0667, 0.05, 0.04]
    assert [s(epoch) for epoch in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2 / 3, 0.05, 0.04], rel=1e-15)
    assert s(0) == 0.2


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_and_exponential_decay_closed_forms(staircase):
    lr0, rate, d = 0.3, 0.7, 5
    inv = S.inverse_time_decay(lr0, rate, decay_steps=d, staircase=staircase)
    exp = S.exponential_decay(lr0, rate, decay_steps=d, staircase=staircase)
    for t in range(60):
        units = math.floor(t / d) if staircase else t / d
        assert inv(t) == pytest.approx(lr0 / (1 + rate * units), rel=1e-14)
        assert exp(t) == pytest.approx(lr0 * math.pow(rate, units), rel=1e-14)


def test_power_decay_closed_form():
    lr0, s, c = 0.01, 20.0, 1.5
    sched = S.power_decay(lr0, s, c)
    for t in range(200):
        assert sched(t) == pytest.approx(lr0 / math.pow(1 + t / s, c), rel=1e-14)
    halving = S.power_decay(0.01, s=20)  # c = 1: the rate halves after s steps, thirds after 2s
    assert halving(20) == pytest.approx(0.005) and halving(40) == pytest.approx(0.01 / 3)


def test_inverse_sqrt_decay_closed_form():
    lr0, w = 0.5, 16
    s = S.inverse_sqrt_decay(lr0, warmup_steps=w)
    for t in range(300):
        expected = lr0 if t < w else lr0 * math.sqrt(w) / math.sqrt(t)
        assert s(t) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("d_model, w", [(512, 4000), (64, 100), (16, 1)])
def test_warmup_power_decay_is_the_transformer_schedule(d_model, w):
    # Vaswani et al. (2017): lrate = d_model^-0.5 * min(step^-0.5, step * warmup_steps^-1.5). With
    # lr0 = (d_model * w)^-0.5 this is lr0 * min(t / w, sqrt(w / t)); our t is their step_num, and
    # at t = 0 (where step^-0.5 is infinite) the min is the ramp's 0.
    lr0 = (d_model * w) ** -0.5
    s = S.warmup(S.power_decay(lr0, s=w, c=0.5), warmup_steps=w)
    assert s(0) == 0.0
    for t in list(range(1, 3 * w + 2)) + [10 * w, 100 * w + 7]:
        vaswani = d_model**-0.5 * min(t**-0.5, t * w**-1.5)
        assert s(t) == pytest.approx(vaswani, rel=1e-12)
        assert s(t) == pytest.approx(lr0 * min(t / w, math.sqrt(w / t)), rel=1e-12)
    # the recipe with inverse_sqrt_decay restarts the clock: still at the peak at 2w, then sqrt(w / (t - w))
    wrong = S.warmup(S.inverse_sqrt_decay(lr0, warmup_steps=w), warmup_steps=w)
    assert wrong(2 * w) == pytest.approx(lr0, rel=1e-12)
    assert wrong(5 * w) == pytest.approx(lr0 * math.sqrt(w / (4 * w)), rel=1e-12)
    assert s(2 * w) == pytest.approx(lr0 / math.sqrt(2), rel=1e-12)


def test_transformer_schedule_example_numbers():
    # w = 100, lr0 = 0.1: lr0 * min(t / w, sqrt(w / t)) at t = 200, 400, 1000 is 0.1/sqrt(2), 0.05, 0.1/sqrt(10)
    s = S.warmup(S.power_decay(0.1, s=100, c=0.5), warmup_steps=100)
    assert [s(t) for t in (200, 400, 1000)] == pytest.approx(
        [0.1 / math.sqrt(2), 0.05, 0.1 / math.sqrt(10)], rel=1e-12
    )


@pytest.mark.parametrize(
    "total_steps, pct_start, three_phase, rate_after, momentum_after",
    [
        (100, 0.3, False, "min", "max"),  # step T - 1 in the last phase: alpha_min, beta_max
        (100, 0.3, True, "min", "max"),  # 2pT - 2 = 58 < T - 1 = 99
        (10, 1.0, False, "max", "base"),  # the whole cycle is the warm-up
        (10, 1.0, True, "max", "base"),
        (10, 0.55, True, "initial", "max"),  # 2pT - 2 = T - 1 = 9: the end of the second phase
    ],
)
def test_one_cycle_value_held_after_the_cycle(total_steps, pct_start, three_phase, rate_after, momentum_after):
    max_lr, div, final_div, base, top = 0.4, 25.0, 1e4, 0.85, 0.95
    rate = {"min": max_lr / div / final_div, "max": max_lr, "initial": max_lr / div}[rate_after]
    momentum = {"max": top, "base": base}[momentum_after]
    for strategy in ("cos", "linear"):
        s = S.one_cycle(max_lr, total_steps, pct_start, div, final_div, strategy, three_phase)
        m = S.one_cycle_momentum(total_steps, pct_start, base, top, strategy, three_phase)
        for late in (total_steps - 1, total_steps, 5 * total_steps):
            assert s(late) == pytest.approx(rate, rel=1e-12)
            assert m(late) == pytest.approx(momentum, rel=1e-12)


def test_one_cycle_three_phases_may_end_in_the_second_phase():
    # T = 10, p = 0.6: the phases end at e1 = 5, e2 = 10, e3 = 9, so step 9 is 4/5 of the way from
    # max_lr back down to max_lr / 25 (linear), and the rate stays there
    max_lr = 1.0
    s = S.one_cycle(max_lr, 10, pct_start=0.6, anneal_strategy="linear", three_phase=True)
    expected = max_lr + (max_lr / 25 - max_lr) * (9 - 5) / (10 - 5)
    assert s(9) == s(10) == s(50) == pytest.approx(expected, rel=1e-12)
    m = S.one_cycle_momentum(10, pct_start=0.6, anneal_strategy="linear", three_phase=True)
    assert m(9) == m(50) == pytest.approx(0.85 + (0.95 - 0.85) * (9 - 5) / (10 - 5), rel=1e-12)


def test_piecewise_constant_switches_at_each_boundary():
    boundaries, values = [5, 15, 40], [0.01, 0.005, 0.001, 0.0001]
    s = S.piecewise_constant(boundaries, values)
    for t in range(60):
        piece = sum(1 for b in boundaries if t >= b)  # value i from boundaries[i-1] on
        assert s(t) == values[piece]
    assert S.piecewise_constant([], [0.2])(123) == 0.2


def test_warmup_closed_form():
    lr0, T, w, start = 0.1, 50, 8, 0.01
    s = S.warmup(S.cosine_decay(lr0, T), warmup_steps=w, start_lr=start)
    for t in range(80):
        if t < w:
            expected = start + (lr0 - start) * t / w
        else:
            expected = lr0 * (1 + math.cos(math.pi * min(t - w, T) / T)) / 2
        assert s(t) == pytest.approx(expected, rel=1e-13, abs=1e-16)


def _optax_join(pieces, boundaries, t):
    """optax.join_schedules, written as its loop: later pieces win from their boundary on."""
    output = pieces[0](t)
    for boundary, piece in zip(boundaries, pieces[1:]):
        output = output if t < boundary else piece(t - boundary)
    return output


def test_join_has_optax_semantics_with_plain_callables():
    pieces = [lambda t: 1.0 + t, lambda t: 100.0 - t, lambda t: 0.5 * t]
    boundaries = [3, 10]
    s = S.join(pieces, boundaries)
    for t in range(20):
        assert s(t) == _optax_join(pieces, boundaries, t)
    assert [s(t) for t in (2, 3, 9, 10, 12)] == [3.0, 100.0, 94.0, 0.0, 1.0]


def test_join_of_schedules_with_arrays():
    pieces = [S.constant(0.05), S.linear_decay(0.1, 10), S.exponential_decay(0.02, 0.5)]
    boundaries = [4, 20]
    s = S.join(pieces, boundaries)
    t = np.arange(40)
    expected = [_optax_join(pieces, boundaries, int(k)) for k in t]
    np.testing.assert_array_equal(s(t), expected)


# ---------------------------------------------------------------------------------------------------
# Properties (hypothesis)
# ---------------------------------------------------------------------------------------------------

rates = st.floats(min_value=0.0, max_value=10.0, allow_nan=False, allow_infinity=False)
unit_open = st.floats(min_value=0.01, max_value=1.0)
steps = st.integers(min_value=1, max_value=300)
increasing_steps = st.lists(st.integers(1, 400), unique=True, max_size=6).map(sorted)


@st.composite
def decaying_schedules(draw):
    """A (name, schedule) pair from every decaying factory, with random valid arguments."""
    lr0 = draw(rates)
    name = draw(
        st.sampled_from(
            ["constant", "step", "multistep", "piecewise", "exponential", "inverse_time",
             "power", "inverse_sqrt", "cosine", "linear", "polynomial"]
        )
    )
    if name == "constant":
        return name, lr0, S.constant(lr0)
    if name == "step":
        return name, lr0, S.step_decay(lr0, draw(steps), draw(unit_open))
    if name == "multistep":
        return name, lr0, S.multistep_decay(lr0, draw(increasing_steps), draw(unit_open))
    if name == "piecewise":
        bounds = draw(increasing_steps)
        values = sorted(draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1)), reverse=True)
        return name, values[0], S.piecewise_constant(bounds, values)
    if name in ("exponential", "inverse_time"):
        factory = S.exponential_decay if name == "exponential" else S.inverse_time_decay
        rate = draw(unit_open) if name == "exponential" else draw(st.floats(0.0, 5.0))
        return name, lr0, factory(lr0, rate, draw(steps), draw(st.booleans()))
    if name == "power":
        return name, lr0, S.power_decay(lr0, draw(st.floats(0.1, 500.0)), draw(st.floats(0.0, 3.0)))
    if name == "inverse_sqrt":
        return name, lr0, S.inverse_sqrt_decay(lr0, draw(steps))
    end = draw(st.floats(0.0, 1.0)) * lr0
    if name == "cosine":
        return name, lr0, S.cosine_decay(lr0, draw(steps), end)
    if name == "linear":
        return name, lr0, S.linear_decay(lr0, draw(steps), end)
    return name, lr0, S.polynomial_decay(lr0, draw(steps), end, draw(st.floats(0.1, 4.0)))


@FAST
@given(decaying_schedules())
def test_decays_never_increase(drawn):
    name, lr0, s = drawn
    values = s(np.arange(700))
    assert values[0] == pytest.approx(lr0, rel=1e-12), name
    assert np.all(np.diff(values) <= 1e-12 * lr0), name
    assert np.all(values >= 0), name


@FAST
@given(decaying_schedules(), st.integers(1, 50), rates)
def test_warmup_endpoints(drawn, w, start_lr):
    _, _, inner = drawn
    s = S.warmup(inner, warmup_steps=w, start_lr=start_lr)
    assert s(0) == start_lr
    assert s(w) == inner(0)
    assert s(w + 17) == inner(17)
    ramp = s(np.arange(w + 1))  # a straight line from start_lr to inner(0)
    np.testing.assert_allclose(np.diff(ramp), (inner(0) - start_lr) / w, rtol=1e-9, atol=1e-12)


@FAST
@given(
    total_steps=st.integers(4, 400),
    data=st.data(),
    div_factor=st.floats(2.0, 100.0),
    anneal_strategy=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
)
def test_one_cycle_peaks_at_max_lr_one_step_before_pct_start_times_total(
    total_steps, data, div_factor, anneal_strategy, three_phase
):
    # torch's phase 1 ends at step pct_start * total_steps - 1; when that is an integer k - 1 the
    # rate there is max_lr and it is the argmax
    k = data.draw(st.integers(2, total_steps // 2 if three_phase else total_steps))
    pct_start = k / total_steps
    s = S.one_cycle(1.5, total_steps, pct_start, div_factor, anneal_strategy=anneal_strategy, three_phase=three_phase)
    values = s(np.arange(total_steps))
    assert int(np.argmax(values)) == round(pct_start * total_steps) - 1 == k - 1
    assert values[k - 1] == pytest.approx(1.5, rel=1e-12)
    # the momentum is at its lowest where the rate peaks
    m = S.one_cycle_momentum(total_steps, pct_start, anneal_strategy=anneal_strategy, three_phase=three_phase)
    assert m(k - 1) == pytest.approx(0.85, rel=1e-12)


@FAST
@given(total_steps=st.integers(10, 400), pct_start=st.floats(0.05, 0.95), anneal_strategy=st.sampled_from(["cos", "linear"]))
def test_one_cycle_argmax_is_next_to_the_end_of_phase_one(total_steps, pct_start, anneal_strategy):
    # for any pct_start the peak is the integer step just before or just after pct_start * T - 1
    end = pct_start * total_steps - 1
    s = S.one_cycle(1.0, total_steps, pct_start, anneal_strategy=anneal_strategy)
    values = s(np.arange(total_steps))
    assert values.max() <= 1.0 + 1e-12
    if end >= 0:
        assert int(np.argmax(values)) in {math.floor(end), math.ceil(end)}


@FAST
@given(lr0=st.floats(0.01, 10.0), rate=st.floats(0.05, 0.95), d=st.integers(1, 30), name=st.sampled_from(["exp", "inv"]))
def test_staircase_is_constant_within_each_block(lr0, rate, d, name):
    factory = S.exponential_decay if name == "exp" else S.inverse_time_decay
    s = factory(lr0, rate, decay_steps=d, staircase=True)
    values = s(np.arange(10 * d)).reshape(10, d)  # one row per block of decay_steps
    assert np.all(values == values[:, :1])  # flat within a block
    assert np.all(np.diff(values[:, 0]) < 0)  # and a drop at every block boundary


@st.composite
def any_schedule(draw):
    """Every factory, the composites and the 1cycle curves included."""
    drawn = draw(decaying_schedules())[2]
    total = draw(st.integers(1, 200))
    pct = draw(st.floats(0.0, 1.0))
    strategy = draw(st.sampled_from(["cos", "linear"]))
    three = draw(st.booleans())
    return draw(
        st.sampled_from(
            [
                drawn,
                S.warmup(drawn, draw(st.integers(1, 40))),
                S.join([drawn, S.cosine_decay(0.1, 30), drawn], [draw(st.integers(1, 50)), 60]),
                S.one_cycle(draw(rates), total, pct, anneal_strategy=strategy, three_phase=three),
                S.one_cycle_momentum(total, pct, anneal_strategy=strategy, three_phase=three),
            ]
        )
    )


@FAST
@given(
    s=any_schedule(),
    t=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6), elements=st.integers(0, 500)),
)
def test_array_input_equals_scalar_input(s, t):
    out = s(t)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == t.shape
    one_by_one = [s(int(k)) for k in t.flat]
    assert all(type(v) is float for v in one_by_one)
    np.testing.assert_allclose(out.reshape(-1), one_by_one, rtol=1e-14, atol=0)
    assert type(s(np.int32(3))) is float  # numpy integer scalars count as scalars


# ---------------------------------------------------------------------------------------------------
# to_torch with a real optimizer, and state round trips
# ---------------------------------------------------------------------------------------------------

TO_TORCH_SCHEDULES = {
    "warmup_cosine": lambda: S.warmup(S.cosine_decay(0.1, 40), warmup_steps=5, start_lr=0.001),
    "one_cycle": lambda: S.one_cycle(0.5, total_steps=50, three_phase=True),
    "step": lambda: S.step_decay(0.1, step_size=7, gamma=0.5),
    "piecewise": lambda: S.piecewise_constant([10, 30], [0.3, 0.03, 0.003]),
    "join": lambda: S.join([S.constant(0.2), S.inverse_time_decay(0.2, 0.5)], [12]),
}


def _two_group_sgd():
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)
    b = torch.ones(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 7.0}], lr=3.0, momentum=0.9)
    return opt, w, b


def _train_step(opt, w, b):
    opt.zero_grad()
    ((w * 2.0).sum() + b.sum() ** 2).backward()
    opt.step()


@pytest.mark.parametrize("name", sorted(TO_TORCH_SCHEDULES))
def test_to_torch_sets_the_rate_of_every_group(name):
    s = TO_TORCH_SCHEDULES[name]()
    opt, w, b = _two_group_sgd()
    scheduler = S.to_torch(s, opt)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    assert [g["lr"] for g in opt.param_groups] == [s(0), s(0)]
    for k in range(1, 60):
        before = w.detach().clone()
        _train_step(opt, w, b)
        # the update used the rate of step k - 1 (plain SGD at the first step: w -= lr * 2)
        if k == 1:
            torch.testing.assert_close(w.detach(), before - s(0) * 2.0, rtol=0, atol=1e-15)
        scheduler.step()
        assert [g["lr"] for g in opt.param_groups] == [s(k), s(k)]
        assert scheduler.get_last_lr() == [s(k), s(k)]


def test_to_torch_state_dict_round_trip():
    s = TO_TORCH_SCHEDULES["warmup_cosine"]()
    opt, w, b = _two_group_sgd()
    scheduler = S.to_torch(s, opt)
    for _ in range(20):
        _train_step(opt, w, b)
        scheduler.step()
    state = scheduler.state_dict()
    assert "schedule" not in state
    buffer = io.BytesIO()
    torch.save(state, buffer)  # picklable: no function inside
    buffer.seek(0)

    opt2, w2, b2 = _two_group_sgd()
    resumed = S.to_torch(s, opt2)
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    for k in range(21, 45):
        _train_step(opt, w, b)
        _train_step(opt2, w2, b2)
        scheduler.step()
        resumed.step()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == s(k)


def test_reduce_on_plateau_state_dict_round_trip():
    metrics = _metric_walk(seed=3, n=100, mode="min")
    kwargs = dict(factor=0.5, patience=2, cooldown=3, threshold_mode="abs", threshold=1e-3, min_lr=1e-4)
    straight = S.ReduceOnPlateau(0.2, **kwargs)
    expected = [straight.step(m) for m in metrics]

    first = S.ReduceOnPlateau(0.2, **kwargs)
    got = [first.step(m) for m in metrics[:50]]
    state = first.state_dict()
    second = S.ReduceOnPlateau(1.0)  # defaults: everything comes from the state dict
    second.load_state_dict(state)
    got += [second.step(m) for m in metrics[50:]]
    assert got == expected
    assert second.state_dict() == straight.state_dict()
    assert len(set(expected)) >= 3


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------

nan = float("nan")
c = S.constant(0.1)

BAD_INPUTS = [
    (lambda: S.constant(-0.1), ValueError, "lr"),
    (lambda: S.constant(nan), ValueError, "lr"),
    (lambda: S.constant("0.1"), TypeError, "lr"),
    (lambda: S.step_decay(-1.0, 10), ValueError, "lr0"),
    (lambda: S.step_decay(0.1, 0), ValueError, "step_size"),
    (lambda: S.step_decay(0.1, 2.5), TypeError, "step_size"),
    (lambda: S.step_decay(0.1, 10, gamma=0.0), ValueError, "gamma"),
    (lambda: S.step_decay(0.1, 10, gamma=1.5), ValueError, "gamma"),
    (lambda: S.step_decay(0.1, 10, gamma=nan), ValueError, "gamma"),
    (lambda: S.multistep_decay(0.1, [30, 20]), ValueError, "milestones"),
    (lambda: S.multistep_decay(0.1, [10, 10]), ValueError, "milestones"),
    (lambda: S.multistep_decay(0.1, [0, 10]), ValueError, "milestones"),
    (lambda: S.multistep_decay(0.1, 30), TypeError, "milestones"),
    (lambda: S.multistep_decay(0.1, [10], gamma=-0.1), ValueError, "gamma"),
    (lambda: S.multistep_decay(nan, [10]), ValueError, "lr0"),
    (lambda: S.piecewise_constant([5, 3], [0.1, 0.2, 0.3]), ValueError, "boundaries"),
    (lambda: S.piecewise_constant([5], [0.1]), ValueError, "values"),
    (lambda: S.piecewise_constant([5], [0.1, 0.2, 0.3]), ValueError, "values"),
    (lambda: S.piecewise_constant([5], [0.1, -1.0]), ValueError, "values"),
    (lambda: S.piecewise_constant([5], [0.1, nan]), ValueError, "values"),
    (lambda: S.exponential_decay(0.1, 0.0), ValueError, "decay_rate"),
    (lambda: S.exponential_decay(0.1, 1.5), ValueError, "decay_rate"),
    (lambda: S.exponential_decay(0.1, 0.9, decay_steps=0), ValueError, "decay_steps"),
    (lambda: S.exponential_decay(0.1, 0.9, staircase="yes"), TypeError, "staircase"),
    (lambda: S.exponential_decay(-0.1, 0.9), ValueError, "lr0"),
    (lambda: S.inverse_time_decay(0.1, -1.0), ValueError, "decay_rate"),
    (lambda: S.inverse_time_decay(0.1, 1.0, decay_steps=-2), ValueError, "decay_steps"),
    (lambda: S.inverse_time_decay(nan, 1.0), ValueError, "lr0"),
    (lambda: S.power_decay(0.1, s=0), ValueError, "s"),
    (lambda: S.power_decay(0.1, s=-5.0), ValueError, "s"),
    (lambda: S.power_decay(0.1, s=10, c=-1.0), ValueError, "c"),
    (lambda: S.inverse_sqrt_decay(0.1, warmup_steps=0), ValueError, "warmup_steps"),
    (lambda: S.inverse_sqrt_decay(-0.1), ValueError, "lr0"),
    (lambda: S.cosine_decay(0.1, 0), ValueError, "total_steps"),
    (lambda: S.cosine_decay(0.1, 10, lr_min=0.2), ValueError, "lr_min"),
    (lambda: S.cosine_decay(0.1, 10, lr_min=-0.01), ValueError, "lr_min"),
    (lambda: S.linear_decay(0.1, -5), ValueError, "total_steps"),
    (lambda: S.linear_decay(0.1, 5, lr_end=1.0), ValueError, "lr_end"),
    (lambda: S.polynomial_decay(0.1, 10, power=0.0), ValueError, "power"),
    (lambda: S.polynomial_decay(0.1, 10, lr_end=-1.0), ValueError, "lr_end"),
    (lambda: S.warmup("cosine", 5), TypeError, "schedule"),
    (lambda: S.warmup(c, 0), ValueError, "warmup_steps"),
    (lambda: S.warmup(c, 5, start_lr=-1.0), ValueError, "start_lr"),
    (lambda: S.join([c], [5]), ValueError, "schedules"),
    (lambda: S.join([c, 0.3], [5]), TypeError, "schedules"),
    (lambda: S.join(c, [5]), TypeError, "schedules"),
    (lambda: S.join([c, c], [0]), ValueError, "boundaries"),
    (lambda: S.join([c, c, c], [5, 5]), ValueError, "boundaries"),
    (lambda: S.one_cycle(-1.0, 10), ValueError, "max_lr"),
    (lambda: S.one_cycle(1.0, 0), ValueError, "total_steps"),
    (lambda: S.one_cycle(1.0, 10, pct_start=1.5), ValueError, "pct_start"),
    (lambda: S.one_cycle(1.0, 10, pct_start=-0.1), ValueError, "pct_start"),
    (lambda: S.one_cycle(1.0, 10, div_factor=0.0), ValueError, "div_factor"),
    (lambda: S.one_cycle(1.0, 10, final_div_factor=-1.0), ValueError, "final_div_factor"),
    (lambda: S.one_cycle(1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
    (lambda: S.one_cycle(1.0, 10, three_phase=1), TypeError, "three_phase"),
    (lambda: S.one_cycle_momentum(10, base_momentum=1.0), ValueError, "base_momentum"),
    (lambda: S.one_cycle_momentum(10, max_momentum=0.5), ValueError, "max_momentum"),
    (lambda: S.one_cycle_momentum(10, pct_start=2.0), ValueError, "pct_start"),
    (lambda: S.one_cycle_momentum(10, anneal_strategy="cosine"), ValueError, "anneal_strategy"),
    (lambda: S.ReduceOnPlateau(0.1, factor=1.0), ValueError, "factor"),
    (lambda: S.ReduceOnPlateau(0.1, factor=2.0), ValueError, "factor"),
    (lambda: S.ReduceOnPlateau(0.1, factor=0.0), ValueError, "factor"),
    (lambda: S.ReduceOnPlateau(0.1, mode="avg"), ValueError, "mode"),
    (lambda: S.ReduceOnPlateau(0.1, threshold_mode="pct"), ValueError, "threshold_mode"),
    (lambda: S.ReduceOnPlateau(0.1, patience=-1), ValueError, "patience"),
    (lambda: S.ReduceOnPlateau(0.1, cooldown=-1), ValueError, "cooldown"),
    (lambda: S.ReduceOnPlateau(0.1, threshold=-1e-4), ValueError, "threshold"),
    (lambda: S.ReduceOnPlateau(0.1, min_lr=-1.0), ValueError, "min_lr"),
    (lambda: S.ReduceOnPlateau(0.1, eps=-1.0), ValueError, "eps"),
    (lambda: S.ReduceOnPlateau(nan), ValueError, "lr0"),
    (lambda: S.to_torch(0.1, _optimizer(0.1)), TypeError, "schedule"),
    (lambda: S.to_torch(c, "sgd"), TypeError, "optimizer"),
]


@pytest.mark.parametrize("make, error, name", BAD_INPUTS)
def test_bad_arguments_raise_naming_the_argument(make, error, name):
    with pytest.raises(error, match=rf"\b{re.escape(name)}\b"):
        make()


@pytest.mark.parametrize(
    "s",
    [S.constant(0.1), S.step_decay(0.1, 3), S.cosine_decay(0.1, 10), S.one_cycle(0.1, 10),
     S.one_cycle_momentum(10), S.warmup(S.constant(0.1), 3), S.join([c, c], [4]),
     S.piecewise_constant([2], [0.1, 0.01]), S.inverse_sqrt_decay(0.1)],
)
def test_bad_steps_raise_naming_t(s):
    with pytest.raises(ValueError, match=r"\bt\b.*-1"):
        s(-1)
    with pytest.raises(ValueError, match=r"\bt\b"):
        s(np.array([3, -2]))
    with pytest.raises(TypeError, match=r"\bt\b"):
        s(1.5)
    with pytest.raises(TypeError, match=r"\bt\b"):
        s(np.array([1.0, 2.0]))


def test_reduce_on_plateau_bad_input_changes_nothing():
    plateau = S.ReduceOnPlateau(0.1, patience=0)
    plateau.step(1.0)
    before = plateau.state_dict()
    with pytest.raises(TypeError, match=r"\bmetric\b"):
        plateau.step("low")
    with pytest.raises(ValueError, match=r"\bmetric\b"):
        plateau.step(nan)
    bad = dict(before, factor=2.0)
    with pytest.raises(ValueError, match=r"\bfactor\b"):
        plateau.load_state_dict(bad)
    missing = {k: v for k, v in before.items() if k != "best"}
    with pytest.raises(ValueError, match=r"\bstate_dict\b"):
        plateau.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"\bnum_bad_epochs\b"):
        plateau.load_state_dict(dict(before, num_bad_epochs=-1))
    assert plateau.state_dict() == before
    assert plateau.step(torch.tensor(0.5, dtype=torch.float64)) == 0.1  # 0-dim tensors are accepted
