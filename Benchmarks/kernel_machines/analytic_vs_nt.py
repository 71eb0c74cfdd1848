#!/usr/bin/env python3
"""Writes Tests/Fixtures/kernel_machines_nt.json: inputs, neural-tangents' analytic kernels and their input
gradients, which Tests/KernelMachinesTests/NeuralTangentsFixtureTests.swift compares with Tangent's
KernelMachines (to 1e-5 relative) — so the check runs in CI without Python.

Kernels (NTK parameterisation, float64 throughout):
- fc:      stax.serial(*[Dense(512, W_std, b_std), Relu()] * depth, Dense(1, W_std, b_std)), depth 1-5,
           NTK and NNGP, on flat rows (the notebook's kernel is depth 1, W_std = sqrt(2), b_std = 0.1);
- conv:    stax.serial(*[Conv(8, (3, 3), padding='SAME', W_std, b_std), Relu()] * depth, Flatten(),
           Dense(1, W_std, b_std)), depth 1-2, NTK and NNGP, on images (stored NCHW as Tangent takes them,
           transposed to NHWC for neural-tangents);
- two-layer: the NTK of f(x) = (1/sqrt(m)) sum_r a_r relu(w_r . x) with w ~ N(0, I) trained and a frozen:
           neural-tangents has no frozen layers, so it is d * (ntk - nngp) of
           stax.serial(Dense(512, 1, 0), Relu(), Dense(1, 1, 0)) (the readout's own contribution to the NTK is
           its NNGP; the factor d undoes stax's 1/d input normalisation).
Each case also holds a cotangent G and the gradient of sum(G * kernel(X1, X2)) with respect to X1 (jax.grad).

usage: /work/envs/venv_nt/bin/python Benchmarks/kernel_machines/analytic_vs_nt.py [OUTPUT.json]
"""
import json
import math
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import neural_tangents  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DEFAULT_OUTPUT = os.path.join(ROOT, "Tests", "Fixtures", "kernel_machines_nt.json")


def fc_layers(depth, w_std, b_std):
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(512, W_std=w_std, b_std=b_std), stax.Relu()]
    return layers + [stax.Dense(1, W_std=w_std, b_std=b_std)]


def conv_layers(depth, w_std, b_std):
    layers = []
    for _ in range(depth):
        layers += [stax.Conv(8, (3, 3), padding="SAME", W_std=w_std, b_std=b_std), stax.Relu()]
    return layers + [stax.Flatten(), stax.Dense(1, W_std=w_std, b_std=b_std)]


def tensor(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "values": [float(v) for v in array.ravel()]}


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT
    rng = np.random.default_rng(13)
    # float32 values, as Tangent's tensors hold them; neural-tangents sees the same numbers in float64.
    flat1 = rng.normal(size=(4, 12)).astype(np.float32).astype(np.float64)
    flat2 = rng.normal(size=(3, 12)).astype(np.float32).astype(np.float64)
    # Pixel-like non-negative images, NCHW, height != width so a transposition would show.
    images1 = rng.uniform(0, 1, size=(2, 3, 4, 5)).astype(np.float32).astype(np.float64)
    images2 = rng.uniform(0, 1, size=(3, 3, 4, 5)).astype(np.float32).astype(np.float64)
    nhwc = (0, 2, 3, 1)
    nchw = (0, 3, 1, 2)

    cases = []

    def add(case, kernel, x1, x2, to_nt=lambda x: x, from_nt=lambda g: g):
        """kernel(x1_nt, x2_nt) -> (n1, n2) array; x1, x2 in Tangent's layout."""
        value = np.asarray(kernel(to_nt(x1), to_nt(x2)))
        cotangent = rng.normal(size=value.shape)
        gradient = jax.grad(lambda a: jnp.sum(cotangent * kernel(a, to_nt(x2))))(jnp.asarray(to_nt(x1)))
        gradient = from_nt(np.asarray(gradient))
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient)), case
        case.update(kernel=tensor(value), cotangent=tensor(cotangent), gradient=tensor(gradient))
        cases.append(case)

    settings = [(math.sqrt(2), 0.1), (1.3, 0.0)]
    for w_std, b_std in settings:
        for depth in range(1, 6):
            _, _, kernel_fn = stax.serial(*fc_layers(depth, w_std, b_std))
            for output_kind in ("ntk", "nngp"):
                add({"kind": "fc", "depth": depth, "weight_std": w_std, "bias_std": b_std, "output": output_kind,
                     "inputs": "flat"},
                    lambda a, b, k=kernel_fn, o=output_kind: k(a, b, o).reshape(a.shape[0], b.shape[0]),
                    flat1, flat2)

    _, _, two_layer_fn = stax.serial(stax.Dense(512, W_std=1.0, b_std=0.0), stax.Relu(),
                                     stax.Dense(1, W_std=1.0, b_std=0.0))

    def two_layer(a, b):
        k = two_layer_fn(a, b, ("ntk", "nngp"))
        return a.shape[1] * (k.ntk - k.nngp)

    add({"kind": "two-layer", "inputs": "flat"}, two_layer, flat1, flat2)

    for w_std, b_std in [(math.sqrt(2), 0.1), (1.7, 0.4)]:
        for depth in (1, 2):
            _, _, kernel_fn = stax.serial(*conv_layers(depth, w_std, b_std))
            for output_kind in ("ntk", "nngp"):
                add({"kind": "conv", "depth": depth, "weight_std": w_std, "bias_std": b_std, "output": output_kind,
                     "inputs": "images"},
                    lambda a, b, k=kernel_fn, o=output_kind: k(a, b, o).reshape(a.shape[0], b.shape[0]),
                    images1, images2, to_nt=lambda x: np.transpose(x, nhwc) if isinstance(x, np.ndarray)
                    else jnp.transpose(x, nhwc), from_nt=lambda g: np.transpose(g, nchw))

    fixture = {
        "generator": "Benchmarks/kernel_machines/analytic_vs_nt.py",
        "jax": jax.__version__,
        "neural_tangents": neural_tangents.__version__,
        "inputs": {"flat1": tensor(flat1), "flat2": tensor(flat2),
                   "images1": tensor(images1), "images2": tensor(images2)},
        "cases": cases,
    }
    with open(output, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {os.path.getsize(output)} bytes -> {os.path.relpath(output)}")


if __name__ == "__main__":
    main()
