"""Record what torch.optim computes for the optimizers fastnn adds to scikit-learn's.

``tests/test_optimizers.py`` checks fastnn's reference update rules against
these trajectories on every run, with or without PyTorch installed (it is
too large a download for the test dependencies); with PyTorch installed it
also checks that this recording still matches what torch.optim computes.

Run with PyTorch installed to write ``torch_optimizers.json`` beside it::

    python tests/data/record_torch_optimizers.py
"""

import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("torch_optimizers.json")

# Ten gradient steps on 12 parameters, the first 8 of them weights (AdamW
# decays only those). PyTorch divides Adam's epsilon by sqrt(1 - beta_2^t)
# where scikit-learn's Adam (fastnn's) does not: AdamW's tiny epsilon makes
# that difference vanish.
N, N_COEF, STEPS, LR = 12, 8, 10, 0.01
CONFIGS = {
    "rmsprop": dict(rho=0.85, epsilon=1e-8),
    "adagrad": dict(epsilon=1e-8),
    "adamw": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-14, weight_decay=0.5),
    "nadam": dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8),
}


def problem():
    """The starting parameters and the gradients of the ten steps."""
    rng = np.random.RandomState(1)
    grads = rng.normal(scale=0.5, size=(STEPS, N))
    theta0 = rng.normal(size=N)
    return theta0, grads


def torch_trajectory(solver, theta0, grads):
    """The parameters after each of torch.optim's steps, in float64."""
    import torch

    c = CONFIGS[solver]
    W = torch.tensor(theta0[:N_COEF].copy(), requires_grad=True)
    b = torch.tensor(theta0[N_COEF:].copy(), requires_grad=True)
    if solver == "rmsprop":
        opt = torch.optim.RMSprop([W, b], lr=LR, alpha=c["rho"], eps=c["epsilon"])
    elif solver == "adagrad":
        opt = torch.optim.Adagrad([W, b], lr=LR, eps=c["epsilon"])
    elif solver == "adamw":
        opt = torch.optim.AdamW(
            [{"params": [W], "weight_decay": c["weight_decay"]},
             {"params": [b], "weight_decay": 0.0}],
            lr=LR, betas=(c["beta_1"], c["beta_2"]), eps=c["epsilon"],
        )
    else:
        opt = torch.optim.NAdam([W, b], lr=LR, betas=(c["beta_1"], c["beta_2"]),
                                eps=c["epsilon"], momentum_decay=0.004)
    # PyTorch keeps scalar state (NAdam's momentum product) in the default dtype.
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    steps = []
    try:
        for g in grads:
            W.grad, b.grad = torch.tensor(g[:N_COEF]), torch.tensor(g[N_COEF:])
            opt.step()
            steps.append(np.concatenate([W.detach().numpy(), b.detach().numpy()]))
    finally:
        torch.set_default_dtype(default)
    return np.array(steps)


def main():
    import torch

    theta0, grads = problem()
    record = {
        "torch": torch.__version__,
        "learning_rate": LR,
        "n_coef": N_COEF,
        "theta0": theta0.tolist(),
        "grads": grads.tolist(),
        "solvers": {
            solver: {"config": config,
                     "trajectory": torch_trajectory(solver, theta0, grads).tolist()}
            for solver, config in CONFIGS.items()
        },
    }
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {OUT} (torch {torch.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
