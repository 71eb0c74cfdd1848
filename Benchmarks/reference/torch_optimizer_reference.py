"""Writes Tests/Fixtures/torch_optimizer_reference.json: parameter trajectories of torch.optim optimisers and
learning rates of torch.optim.lr_scheduler schedules on fixed gradients, for NNTests/OptimizerTests.

Two parameters (a [3, 4] matrix and a [5] vector) start at fixed values; step k (0..9) uses the fixed gradient
g_k stored in the file. Each optimiser configuration records the parameters after every step.
Run: /work/envs/venv_torch/bin/python Benchmarks/reference/torch_optimizer_reference.py
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float32)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torch_optimizer_reference.json")
STEPS = 10

start = {
    "a": [[math.sin(0.7 * i + 0.3 * j) for j in range(4)] for i in range(3)],
    "b": [0.5 - 0.2 * i for i in range(5)],
}
grads = [
    {"a": [[math.cos(1.3 * k + 0.5 * i - 0.2 * j) * (1 + 0.1 * k) for j in range(4)] for i in range(3)],
     "b": [math.sin(0.9 * k - 0.4 * i) * 0.5 for i in range(5)]}
    for k in range(STEPS)
]

configs = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum_wd": ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_l2": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.01, weight_decay=0.1)),
}

result = {"torch": torch.__version__, "start": start, "gradients": grads, "optimizers": {}, "schedules": {}}
for name, (kind, kwargs) in configs.items():
    a = torch.tensor(start["a"], requires_grad=True)
    b = torch.tensor(start["b"], requires_grad=True)
    opt = getattr(torch.optim, kind)([a, b], **kwargs)
    trajectory = []
    for k in range(STEPS):
        a.grad = torch.tensor(grads[k]["a"])
        b.grad = torch.tensor(grads[k]["b"])
        opt.step()
        trajectory.append({"a": a.detach().tolist(), "b": b.detach().tolist()})
    settings = dict(kwargs)
    if "nesterov" in settings:
        settings["nesterov"] = 1.0 if settings["nesterov"] else 0.0
    if "betas" in settings:
        settings["beta1"], settings["beta2"] = settings.pop("betas")
    result["optimizers"][name] = {"kind": kind, "settings": settings, "trajectory": trajectory}


def rates(make, steps=25, lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    scheduler = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


result["schedules"]["step"] = {"rate": 0.1, "every": 4, "gamma": 0.5,
                               "rates": rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5))}
result["schedules"]["cosine"] = {"rate": 0.1, "total": 20, "minimum": 0.001,
                                 "rates": rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.001))}
result["schedules"]["warmup_cosine"] = {
    "rate": 0.1, "warmup": 5, "total": 15, "minimum": 0.0,
    "rates": rates(lambda o: torch.optim.lr_scheduler.SequentialLR(o, [
        torch.optim.lr_scheduler.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4),
        torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=15, eta_min=0.0)], milestones=[5]))}

with open(OUT, "w") as f:
    json.dump(result, f, indent=1)
print(f"wrote {OUT} (torch {torch.__version__})")
