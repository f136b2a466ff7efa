"""lrcourse.optim against torch.optim at float64, closed forms, and its input checks.

Every optimizer runs side by side with its torch.optim counterpart on a small least-squares problem with
three parameters of different shapes. The gradients are computed in numpy from lrcourse's current
parameters and the same arrays are handed to both optimizers, so any difference in the update rules
shows up as a difference in the parameters (checked after every step).
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.optim import SGD, Adam, Momentum, RMSprop

STEPS = 60
RTOL, ATOL = 1e-11, 1e-13


# --- a small problem: least squares with a weight matrix, a bias and a pulled-to-target block -------


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(16, 4))
    Y = rng.normal(size=(16, 3))
    target = rng.normal(size=(2, 2, 1))
    params = {
        "W": rng.normal(size=(4, 3)),
        "b": rng.normal(size=(3,)),
        "u": rng.normal(size=(2, 2, 1)),
    }

    def grads_of(p):
        # loss = 1/(2n) ||X W + b - Y||^2 + 1/2 ||u - target||^2
        r = (X @ p["W"] + p["b"] - Y) / len(X)
        return {"W": X.T @ r, "b": r.sum(axis=0), "u": p["u"] - target}

    return params, grads_of


def lr_schedule(lr0, t):
    """A learning rate that changes every step (t = 0, 1, ...), never zero."""
    return lr0 * (1.0 + 0.5 * math.sin(0.7 * t)) / (1.0 + 0.05 * t)


def run_against_torch(ours, make_torch, lr0, schedule=False, steps=STEPS, torch_lr_scale=1.0):
    params, grads_of = make_problem()
    tparams = {k: torch.tensor(v, dtype=torch.float64) for k, v in params.items()}
    topt = make_torch(list(tparams.values()))
    for t in range(steps):
        if schedule:
            ours.lr = lr_schedule(lr0, t)
            for group in topt.param_groups:
                group["lr"] = torch_lr_scale * lr_schedule(lr0, t)
        grads = grads_of(params)
        for k, tp in tparams.items():
            tp.grad = torch.tensor(grads[k], dtype=torch.float64)
        ours.step(params, grads)
        topt.step()
        for k in params:
            np.testing.assert_allclose(params[k], tparams[k].numpy(), rtol=RTOL, atol=ATOL, err_msg=f"{k} at step {t}")
    assert ours.t == steps
    return params


CASES = {
    "sgd": (lambda: SGD(lr=0.3), lambda ps: torch.optim.SGD(ps, lr=0.3), 0.3),
    "sgd_weight_decay": (
        lambda: SGD(lr=0.3, weight_decay=0.1),
        lambda ps: torch.optim.SGD(ps, lr=0.3, weight_decay=0.1),
        0.3,
    ),
    "momentum": (
        lambda: Momentum(lr=0.5, beta=0.9),
        lambda ps: torch.optim.SGD(ps, lr=0.5 * (1 - 0.9), momentum=0.9),
        0.5,
        1 - 0.9,  # torch's learning rate is lr * (1 - beta), also when a schedule sets lr
    ),
    "momentum_beta_0.5": (
        lambda: Momentum(lr=0.4, beta=0.5),
        lambda ps: torch.optim.SGD(ps, lr=0.4 * (1 - 0.5), momentum=0.5),
        0.4,
        1 - 0.5,
    ),
    "rmsprop": (
        lambda: RMSprop(lr=0.01, beta=0.9, eps=1e-8),
        lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8),
        0.01,
    ),
    "rmsprop_big_eps": (
        lambda: RMSprop(lr=0.02, beta=0.99, eps=1e-3),
        lambda ps: torch.optim.RMSprop(ps, lr=0.02, alpha=0.99, eps=1e-3),
        0.02,
    ),
    "adam": (
        lambda: Adam(lr=0.05),
        lambda ps: torch.optim.Adam(ps, lr=0.05, foreach=False),
        0.05,
    ),
    "adam_custom": (
        lambda: Adam(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6),
        lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, foreach=False),
        0.02,
    ),
    "adam_l2": (
        lambda: Adam(lr=0.05, weight_decay=0.1),
        lambda ps: torch.optim.Adam(ps, lr=0.05, weight_decay=0.1, foreach=False),
        0.05,
    ),
    "adamw": (
        lambda: Adam(lr=0.05, weight_decay=0.1, decoupled=True),
        lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1, foreach=False),
        0.05,
    ),
}


@pytest.mark.parametrize("schedule", [False, True], ids=["constant_lr", "lr_every_step"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, schedule):
    make_ours, make_torch, lr0, *scale = CASES[name]
    run_against_torch(make_ours(), make_torch, lr0, schedule=schedule, torch_lr_scale=scale[0] if scale else 1.0)


def test_problem_actually_trains():
    # Guard against a vacuous comparison: the runs above move the parameters a lot.
    params, grads_of = make_problem()
    start = {k: v.copy() for k, v in params.items()}
    final = run_against_torch(Adam(lr=0.05), lambda ps: torch.optim.Adam(ps, lr=0.05, foreach=False), 0.05)
    assert all(np.abs(final[k] - start[k]).max() > 0.1 for k in start)
    g0 = grads_of(start)
    g1 = grads_of(final)
    assert sum(np.sum(g**2) for g in g1.values()) < 0.1 * sum(np.sum(g**2) for g in g0.values())


# --- closed forms ---------------------------------------------------------------------------------


def test_sgd_one_step_closed_form():
    p = {"w": np.array([1.0, -2.0])}
    SGD(lr=0.1, weight_decay=0.5).step(p, {"w": np.array([0.3, 0.4])})
    np.testing.assert_allclose(p["w"], [1.0 - 0.1 * (0.3 + 0.5 * 1.0), -2.0 - 0.1 * (0.4 + 0.5 * -2.0)])


@pytest.mark.parametrize("lr", [1e-3, 0.1, 2.0])
def test_adam_first_step_is_lr_times_sign(lr):
    g = np.array([3.0, -0.02, 1e-3, -50.0, 0.0])
    p = {"w": np.zeros(5)}
    Adam(lr=lr).step(p, {"w": g})
    # m_hat_1 = g, v_hat_1 = g^2, so the step is lr * g / (|g| + eps)
    np.testing.assert_allclose(p["w"], -lr * g / (np.abs(g) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(p["w"], -lr * np.sign(g), rtol=1e-5)


def test_adamw_first_step_closed_form():
    p = {"w": np.array([2.0])}
    Adam(lr=0.1, weight_decay=0.5, decoupled=True).step(p, {"w": np.array([-4.0])})
    assert p["w"][0] == pytest.approx(2.0 * (1 - 0.1 * 0.5) + 0.1 * 4.0 / (4.0 + 1e-8), rel=1e-12)


def test_rmsprop_first_step_is_scaled_by_one_over_sqrt_one_minus_beta():
    p = {"w": np.array([0.0])}
    RMSprop(lr=0.01, beta=0.9).step(p, {"w": np.array([2.0])})
    assert p["w"][0] == pytest.approx(-0.01 * 2.0 / (math.sqrt(0.1 * 4.0) + 1e-8), rel=1e-12)


lrs = st.floats(min_value=1e-4, max_value=10.0)
unit_betas = st.floats(min_value=0.0, max_value=0.999)
gradients = st.floats(min_value=-100.0, max_value=100.0).filter(lambda x: abs(x) > 1e-6)
step_counts = st.integers(min_value=1, max_value=40)


@settings(max_examples=60, deadline=None)
@given(lrs, unit_betas, gradients, step_counts)
def test_momentum_constant_gradient_closed_form(lr, beta, g, n):
    # v_k = (1 - beta^k) g, so after n steps theta moved by -lr g sum_{k=1}^n (1 - beta^k)
    #                                                     = -lr g (n - beta (1 - beta^n) / (1 - beta)).
    p = {"w": np.array([0.0])}
    opt = Momentum(lr=lr, beta=beta)
    for _ in range(n):
        opt.step(p, {"w": np.array([g])})
    expected = -lr * g * (n - beta * (1 - beta**n) / (1 - beta))
    assert p["w"][0] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert opt.t == n


@settings(max_examples=60, deadline=None)
@given(lrs, unit_betas, unit_betas, gradients, step_counts)
def test_adam_constant_gradient_moves_lr_per_step(lr, beta1, beta2, g, n):
    # With bias correction, m_hat_k = g and v_hat_k = g^2 on every step: each step is lr g / (|g| + eps).
    p = {"w": np.array([0.0])}
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2)
    for _ in range(n):
        opt.step(p, {"w": np.array([g])})
    assert p["w"][0] == pytest.approx(-n * lr * g / (abs(g) + 1e-8), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(lrs, unit_betas, gradients, step_counts)
def test_rmsprop_constant_gradient_closed_form(lr, beta, g, n):
    # s_k = (1 - beta^k) g^2, so step k is lr g / (|g| sqrt(1 - beta^k) + eps).
    p = {"w": np.array([0.0])}
    opt = RMSprop(lr=lr, beta=beta)
    for _ in range(n):
        opt.step(p, {"w": np.array([g])})
    expected = -sum(lr * g / (abs(g) * math.sqrt(1 - beta**k) + 1e-8) for k in range(1, n + 1))
    assert p["w"][0] == pytest.approx(expected, rel=1e-9)


# --- the step: in place, atomic, counting ---------------------------------------------------------

ALL = [
    lambda: SGD(lr=0.1, weight_decay=0.01),
    lambda: Momentum(lr=0.1),
    lambda: RMSprop(lr=0.1),
    lambda: Adam(lr=0.1),
    lambda: Adam(lr=0.1, weight_decay=0.1, decoupled=True),
]
ALL_IDS = ["sgd", "momentum", "rmsprop", "adam", "adamw"]


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_update_is_in_place_and_t_counts(make):
    params, grads_of = make_problem()
    objects = {k: id(v) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    opt = make()
    assert opt.t == 0
    for n in range(1, 4):
        grads = grads_of(params)
        grads_copy = {k: v.copy() for k, v in grads.items()}
        opt.step(params, grads)
        assert opt.t == n
        assert {k: id(v) for k, v in params.items()} == objects
        for k in grads:  # the caller's gradients are not modified
            assert np.array_equal(grads[k], grads_copy[k])
    assert all(not np.array_equal(params[k], before[k]) for k in params)


@pytest.mark.parametrize("make", ALL[1:], ids=ALL_IDS[1:])
def test_state_is_created_lazily_as_float_arrays_like_the_param(make):
    opt = make()
    assert opt.state == {}
    params = {"a": np.ones((2, 3), dtype=np.float32), "b": np.ones(4)}
    opt.step(params, {"a": np.ones((2, 3), dtype=np.float32), "b": np.ones(4)})
    for key, p in params.items():
        assert opt.state[key]
        for buf in opt.state[key].values():
            assert buf.shape == p.shape and buf.dtype == p.dtype
    assert params["a"].dtype == np.float32


def _bad_step_cases():
    good = {"W": np.ones((2, 3)), "b": np.ones(3)}
    return [
        ({"W": np.ones((2, 3))}, good, ValueError, r"grads must have the same keys.*missing keys \['b'\]"),
        ({**good, "c": np.ones(1)}, good, ValueError, r"grads must have the same keys.*unexpected keys \['c'\]"),
        ({"W": np.ones((3, 2)), "b": np.ones(3)}, good, ValueError, r"grads\['W'\].*\(3, 2\) and \(2, 3\)"),
        ({"W": np.ones((2, 3)), "b": np.ones((1, 3))}, good, ValueError, r"grads\['b'\].*\(1, 3\) and \(3,\)"),
        ([np.ones((2, 3)), np.ones(3)], good, TypeError, "grads must be a dict"),
        ({"W": [[1.0] * 3] * 2, "b": np.ones(3)}, good, TypeError, r"grads\['W'\] must be a numpy array"),
        ({"W": np.ones((2, 3), dtype=complex), "b": np.ones(3)}, good, TypeError, r"grads\['W'\].*complex"),
    ]


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
@pytest.mark.parametrize("case", range(len(_bad_step_cases())))
def test_bad_grads_raise_before_anything_changes(make, case):
    grads, _, error, pattern = _bad_step_cases()[case]
    params = {"W": np.full((2, 3), 0.5), "b": np.full(3, -0.5)}
    opt = make()
    opt.step(params, {"W": np.ones((2, 3)), "b": np.ones(3)})  # one good step, so there is state
    before = {k: v.copy() for k, v in params.items()}
    state_before = {k: {n: a.copy() for n, a in s.items()} for k, s in opt.state.items()}
    with pytest.raises(error, match=pattern):
        opt.step(params, grads)
    assert opt.t == 1
    for k in params:
        assert np.array_equal(params[k], before[k])
        for n, a in opt.state[k].items():
            assert np.array_equal(a, state_before[k][n])


def test_bad_params_raise():
    opt = Adam()
    g = {"w": np.ones(2)}
    with pytest.raises(TypeError, match="params must be a dict"):
        opt.step((np.ones(2),), g)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a numpy array"):
        opt.step({"w": [1.0, 2.0]}, g)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a floating-point array, got dtype int64"):
        opt.step({"w": np.ones(2, dtype=np.int64)}, g)
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\['w'\] must be writeable"):
        opt.step({"w": frozen}, g)
    assert opt.t == 0 and opt.state == {}


def test_keys_must_stay_the_same_once_there_is_state():
    opt = Momentum(lr=0.1)
    p = {"a": np.ones(2), "b": np.ones(2)}
    opt.step(p, {"a": np.ones(2), "b": np.ones(2)})
    before = p["a"].copy()
    pattern = r"params must have the keys this optimizer keeps state for.*missing keys \['b'\]"
    with pytest.raises(ValueError, match=pattern):
        opt.step({"a": p["a"]}, {"a": np.ones(2)})
    assert np.array_equal(p["a"], before) and opt.t == 1


def test_lr_zero_leaves_params_but_still_counts():
    p = {"w": np.array([1.0, 2.0])}
    opt = Adam(lr=0.0)
    opt.step(p, {"w": np.array([0.5, -0.5])})
    assert np.array_equal(p["w"], [1.0, 2.0]) and opt.t == 1


# --- state_dict: save half-way, resume in a new optimizer, end bit-identical ----------------------


def _run(opt, params, grads_of, steps, start=0, lr0=None):
    for t in range(start, start + steps):
        if lr0 is not None:
            opt.lr = lr_schedule(lr0, t)
        opt.step(params, grads_of(params))


@pytest.mark.parametrize(
    "make, make_fresh",
    [
        (lambda: SGD(lr=0.2, weight_decay=0.05), lambda: SGD(lr=9.0)),
        (lambda: Momentum(lr=0.3, beta=0.8), lambda: Momentum(lr=9.0, beta=0.1)),
        (lambda: RMSprop(lr=0.01, beta=0.95, eps=1e-6), lambda: RMSprop(lr=9.0)),
        (lambda: Adam(lr=0.05, beta1=0.85, weight_decay=0.01), lambda: Adam()),
        (lambda: Adam(lr=0.05, weight_decay=0.1, decoupled=True), lambda: Adam(lr=1.0)),
    ],
    ids=ALL_IDS,
)
@pytest.mark.parametrize("with_schedule", [False, True])
def test_state_dict_resume_is_bit_identical(make, make_fresh, with_schedule):
    lr0 = 0.05 if with_schedule else None
    # uninterrupted
    full, grads_of = make_problem()
    opt = make()
    _run(opt, full, grads_of, 40, lr0=lr0)
    # 17 steps, save, resume in a new optimizer built with other hyperparameters
    half, grads_of = make_problem()
    first = make()
    _run(first, half, grads_of, 17, lr0=lr0)
    saved = first.state_dict()
    saved_params = {k: v.copy() for k, v in half.items()}
    _run(first, half, grads_of, 5)  # the first optimizer goes on: must not leak into the saved dict
    second = make_fresh()
    second.load_state_dict(saved)
    assert second.t == 17
    assert repr(second) == repr(first)
    for bufs in saved["state"].values():  # loading copies: later changes to the dict do not leak in
        for a in bufs.values():
            a += 123.0
    _run(second, saved_params, grads_of, 23, start=17, lr0=lr0)
    assert second.t == opt.t == 40
    for k in full:
        assert np.array_equal(saved_params[k], full[k]), k
        for n in opt.state.get(k, {}):
            assert np.array_equal(second.state[k][n], opt.state[k][n])


def test_state_dict_contents():
    opt = Adam(lr=0.01, weight_decay=0.1, decoupled=True)
    p = {"w": np.ones(3)}
    opt.step(p, {"w": np.ones(3)})
    d = opt.state_dict()
    assert d["optimizer"] == "Adam"
    assert d["t"] == 1
    assert d["hyperparameters"] == dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=True)
    assert set(d["state"]["w"]) == {"m", "v"}
    assert d["state"]["w"]["m"] is not opt.state["w"]["m"]
    np.testing.assert_allclose(d["state"]["w"]["m"], 0.1)  # (1 - beta1) * 1
    assert Momentum(lr=0.1).state_dict() == {
        "optimizer": "Momentum",
        "hyperparameters": {"lr": 0.1, "beta": 0.9},
        "t": 0,
        "state": {},
    }


def _good_state_dict():
    opt = Momentum(lr=0.1, beta=0.5)
    opt.step({"w": np.ones(2)}, {"w": np.ones(2)})
    return opt.state_dict()


def _edit(**changes):
    d = _good_state_dict()
    for path, value in changes.items():
        *outer, last = path.split("__")
        target = d
        for key in outer:
            target = target[key]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return d


@pytest.mark.parametrize(
    "d, error, pattern",
    [
        ([1, 2], TypeError, "state_dict must be a dict"),
        (_edit(t=KeyError), ValueError, r"state_dict must have the entries.*missing \['t'\]"),
        (_edit(extra=1), ValueError, r"state_dict must have the entries.*unexpected \['extra'\]"),
        (_edit(optimizer="Adam"), ValueError, r"state_dict\['optimizer'\] must be 'Momentum', got 'Adam'"),
        (Adam().state_dict(), ValueError, r"state_dict\['optimizer'\] must be 'Momentum', got 'Adam'"),
        (_edit(hyperparameters__beta=KeyError), ValueError, r"hyperparameters'\] must have.*missing \['beta'\]"),
        (_edit(hyperparameters__eps=1e-8), ValueError, r"hyperparameters'\] must have.*unexpected \['eps'\]"),
        (_edit(hyperparameters__beta=1.0), ValueError, r"beta must be in \[0, 1\), got 1.0"),
        (_edit(hyperparameters__lr=-1.0), ValueError, "lr must be >= 0, got -1.0"),
        (_edit(hyperparameters=None), TypeError, r"state_dict\['hyperparameters'\] must be a dict"),
        (_edit(t=-1), ValueError, r"state_dict\['t'\] must be >= 0, got -1"),
        (_edit(t=1.5), TypeError, r"state_dict\['t'\] must be an integer"),
        (_edit(state=[]), TypeError, r"state_dict\['state'\] must be a dict"),
        (_edit(state__w=np.ones(2)), TypeError, r"state_dict\['state'\]\['w'\] must be a dict"),
        (_edit(state__w__v=KeyError), ValueError, r"state_dict\['state'\]\['w'\] must have.*missing \['v'\]"),
        (_edit(state__w__v=[0.0, 0.0]), TypeError, r"\['w'\]\['v'\] must be a floating-point numpy array"),
        (_edit(state__w__v=np.zeros(2, dtype=int)), TypeError, r"\['w'\]\['v'\] must be a floating-point"),
        (_edit(state__w__v=np.array([0.0, np.nan])), ValueError, r"\['w'\]\['v'\] must hold finite numbers"),
        (_edit(t=0), ValueError, r"state_dict\['t'\] is 0 but state_dict\['state'\] holds buffers for \['w'\]"),
    ],
)
def test_load_state_dict_rejects_bad_dicts_and_changes_nothing(d, error, pattern):
    opt = Momentum(lr=0.7, beta=0.2)
    opt.step({"w": np.ones(2)}, {"w": np.full(2, 3.0)})
    before = opt.state_dict()
    with pytest.raises(error, match=pattern):
        opt.load_state_dict(d)
    after = opt.state_dict()
    assert after["hyperparameters"] == before["hyperparameters"] and after["t"] == before["t"] == 1
    assert np.array_equal(after["state"]["w"]["v"], before["state"]["w"]["v"])


def test_loaded_state_must_fit_the_params():
    opt = Momentum(lr=0.1)
    opt.load_state_dict(_good_state_dict())  # state for "w" of shape (2,)
    p = {"w": np.ones(3)}
    pattern = r"params\['w'\] must have the shape of its saved state 'v', got \(3,\) and \(2,\)"
    with pytest.raises(ValueError, match=pattern):
        opt.step(p, {"w": np.ones(3)})
    assert np.array_equal(p["w"], np.ones(3)) and opt.t == 1


# --- hyperparameter checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, pattern",
    [
        (lambda: SGD(lr=-0.1), ValueError, r"lr must be >= 0, got -0.1"),
        (lambda: SGD(lr=float("nan")), ValueError, r"lr must be a finite number, got nan"),
        (lambda: SGD(lr=float("inf")), ValueError, r"lr must be a finite number, got inf"),
        (lambda: SGD(lr="0.1"), TypeError, r"lr must be a real number, got '0.1'"),
        (lambda: SGD(lr=0.1, weight_decay=-1e-4), ValueError, r"weight_decay must be >= 0, got -0.0001"),
        (lambda: Momentum(lr=0.1, beta=1.0), ValueError, r"beta must be in \[0, 1\), got 1.0"),
        (lambda: Momentum(lr=0.1, beta=-0.1), ValueError, r"beta must be in \[0, 1\), got -0.1"),
        (lambda: Momentum(lr=-1, beta=0.9), ValueError, r"lr must be >= 0, got -1.0"),
        (lambda: RMSprop(lr=0.1, beta=1.5), ValueError, r"beta must be in \[0, 1\), got 1.5"),
        (lambda: RMSprop(lr=0.1, eps=0.0), ValueError, r"eps must be > 0, got 0.0"),
        (lambda: RMSprop(lr=0.1, eps=-1e-8), ValueError, r"eps must be > 0, got -1e-08"),
        (lambda: Adam(beta1=1.0), ValueError, r"beta1 must be in \[0, 1\), got 1.0"),
        (lambda: Adam(beta2=float("nan")), ValueError, r"beta2 must be a finite number, got nan"),
        (lambda: Adam(beta2=-0.5), ValueError, r"beta2 must be in \[0, 1\), got -0.5"),
        (lambda: Adam(eps=0), ValueError, r"eps must be > 0, got 0.0"),
        (lambda: Adam(weight_decay=-0.01), ValueError, r"weight_decay must be >= 0, got -0.01"),
        (lambda: Adam(decoupled=1), TypeError, r"decoupled must be a bool, got 1 of type int"),
        (lambda: Adam(decoupled="yes"), TypeError, r"decoupled must be a bool, got 'yes'"),
        (lambda: Adam(lr=float("nan")), ValueError, r"lr must be a finite number, got nan"),
    ],
)
def test_bad_hyperparameters(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize("bad, error, pattern", [(-0.5, ValueError, "lr must be >= 0, got -0.5"),
                                                 (float("nan"), ValueError, "lr must be a finite number, got nan"),
                                                 (None, TypeError, "lr must be a real number, got None")])
def test_setting_lr_is_checked_and_keeps_the_old_value(bad, error, pattern):
    opt = Adam(lr=0.01)
    with pytest.raises(error, match=pattern):
        opt.lr = bad
    assert opt.lr == 0.01
    opt.lr = np.float64(0.5)
    assert opt.lr == 0.5 and type(opt.lr) is float


def test_repr_names_the_hyperparameters():
    assert repr(Momentum(lr=0.1, beta=0.5)) == "Momentum(lr=0.1, beta=0.5)"
    assert repr(Adam()) == "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0, decoupled=False)"


@pytest.mark.parametrize("make, name, bad, message", [
    (lambda: Momentum(lr=0.1), "beta", 1.5, r"beta must be in \[0, 1\), got 1.5"),
    (lambda: RMSprop(lr=0.1), "eps", 0.0, "eps must be > 0, got 0.0"),
    (lambda: Adam(lr=0.1), "beta2", -0.1, r"beta2 must be in \[0, 1\), got -0.1"),
    (lambda: SGD(lr=0.1), "weight_decay", "0.1", "weight_decay must be a real number, got '0.1'"),
])
def test_hyperparameters_set_after_construction_are_checked(make, name, bad, message):
    opt = make()
    before = getattr(opt, name)
    with pytest.raises((ValueError, TypeError), match=message):
        setattr(opt, name, bad)
    assert getattr(opt, name) == before  # unchanged
    good = 0.5 if name != "eps" else 1e-6
    setattr(opt, name, good)
    assert getattr(opt, name) == good and opt.state_dict()["hyperparameters"][name] == good


@pytest.mark.parametrize("make, name", [(lambda: RMSprop(lr=0.1), "s"), (lambda: Adam(lr=0.1), "v")])
def test_loaded_second_moments_must_be_nonnegative(make, name):
    opt = make()
    opt.step({"w": np.ones(2)}, {"w": np.full(2, 3.0)})
    saved = opt.state_dict()
    saved["state"]["w"][name] = np.array([0.5, -1e-3])
    with pytest.raises(ValueError, match=rf"\['w'\]\['{name}'\] must be >= 0 \(an average of squares\), got -0.001"):
        opt.load_state_dict(saved)
    assert np.all(opt.state_dict()["state"]["w"][name] >= 0)
