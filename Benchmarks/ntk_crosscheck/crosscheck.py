"""Cross-check Tangent's full empirical NTK against neural-tangents on the same weights and inputs.

Reads two Tangent files (zstd-compressed safetensors, see Sources/Checkpoints/Checkpoints.swift):
  --model   the MNIST CNN's parameters, named like Tangent's (conv1.weight [O,I,kh,kw], conv1.bias, ...,
            fc1.weight [out,in], fc2.bias), metadata "model" = "mnist-cnn";
  --kernel  Tangent's full kernel ("kernel", [N*C, N*C], rows sample-major: i*C + c) and the probe images
            ("inputs", [N, 1, 28, 28]) it was computed on.
Builds the same network in Flax (NHWC): conv weights to HWIO, dense weights transposed, and fc1's input
columns permuted from Tangent's (C, H, W) flatten order to Flax's (H, W, C). Then computes
nt.empirical_ntk_fn(apply_fn, trace_axes=(), implementation=STRUCTURED_DERIVATIVES) -> (N, N, C, C),
reshapes it to (N*C, N*C) sample-major and prints the relative Frobenius error, both norms and timings.

Run with the neural-tangents environment (jax 0.4.23, neural-tangents 0.6.5, flax 0.8.0):
  /work/envs/venv_nt/bin/python crosscheck.py --model model.safetensors.zst --kernel kernel.safetensors.zst
"""
import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tangent_files import read_tangent_file  # noqa: E402


def flax_parameters(p):
    """Tangent's MNIST CNN parameters (PyTorch layouts, NCHW flatten) as Flax NHWC parameters."""
    hwio = lambda w: np.transpose(w, (2, 3, 1, 0))  # [O, I, kh, kw] -> [kh, kw, I, O]
    fc1 = p["fc1.weight"]  # [256, 3136], input index c*49 + h*7 + w
    out_features = fc1.shape[0]
    fc1_hwc = fc1.reshape(out_features, 64, 7, 7).transpose(2, 3, 1, 0).reshape(7 * 7 * 64, out_features)
    return {
        "Conv_0": {"kernel": hwio(p["conv1.weight"]), "bias": p["conv1.bias"]},
        "Conv_1": {"kernel": hwio(p["conv2.weight"]), "bias": p["conv2.bias"]},
        "Dense_0": {"kernel": fc1_hwc, "bias": p["fc1.bias"]},
        "Dense_1": {"kernel": p["fc2.weight"].T, "bias": p["fc2.bias"]},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import flax
    import flax.linen as nn
    import neural_tangents as nt

    class MNISTCNN(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(32, (3, 3), padding="SAME")(x))
            x = nn.avg_pool(x, (2, 2), strides=(2, 2), padding="VALID")
            x = nn.relu(nn.Conv(64, (3, 3), padding="SAME")(x))
            x = nn.avg_pool(x, (2, 2), strides=(2, 2), padding="VALID")
            x = x.reshape((x.shape[0], -1))
            x = nn.relu(nn.Dense(256)(x))
            return nn.Dense(10)(x)

    params_file, model_meta = read_tangent_file(args.model)
    if model_meta.get("model") != "mnist-cnn":
        sys.exit(f"{args.model}: metadata model is {model_meta.get('model')!r}, expected 'mnist-cnn'")
    kernel_file, kernel_meta = read_tangent_file(args.kernel)
    tangent_kernel = kernel_file["kernel"].astype(np.float64)
    inputs = kernel_file["inputs"]  # [N, 1, 28, 28]
    n, classes = int(kernel_meta["samples"]), int(kernel_meta["classes"])
    assert tangent_kernel.shape == (n * classes, n * classes), tangent_kernel.shape

    model = MNISTCNN()
    x = jnp.asarray(np.transpose(inputs, (0, 2, 3, 1)))  # NCHW -> NHWC
    params = jax.tree_util.tree_map(jnp.asarray, flax_parameters(params_file))
    reference = model.init(jax.random.PRNGKey(0), x[:1])["params"]
    shapes = lambda tree: jax.tree_util.tree_map(lambda a: tuple(a.shape), flax.core.unfreeze(tree))
    assert shapes(reference) == shapes(params), (shapes(reference), shapes(params))

    apply_fn = lambda p, inp: model.apply({"params": p}, inp)
    kernel_fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0,
                                            implementation=nt.NtkImplementation.STRUCTURED_DERIVATIVES))
    start = time.perf_counter()
    ntk = kernel_fn(x, None, params).block_until_ready()
    first = time.perf_counter() - start
    start = time.perf_counter()
    ntk = kernel_fn(x, None, params).block_until_ready()
    second = time.perf_counter() - start
    assert ntk.shape == (n, n, classes, classes), ntk.shape
    nt_kernel = np.asarray(ntk, dtype=np.float64).transpose(0, 2, 1, 3).reshape(n * classes, n * classes)

    difference = np.linalg.norm(tangent_kernel - nt_kernel)
    nt_norm, tangent_norm = np.linalg.norm(nt_kernel), np.linalg.norm(tangent_kernel)
    relative = difference / nt_norm
    print(f"jax {jax.__version__}, neural-tangents {nt.__version__}, flax {flax.__version__}, devices {jax.devices()}")
    print(f"kernel: full, N = {n}, C = {classes}, {n * classes}x{n * classes}")
    print(f"||K_neural_tangents||_F = {nt_norm:.9g}")
    print(f"||K_tangent||_F         = {tangent_norm:.9g}")
    print(f"||K_tangent - K_nt||_F / ||K_nt||_F = {relative:.3e}  (goal < {args.tolerance:g})")
    print(f"max |K_tangent - K_nt| = {np.abs(tangent_kernel - nt_kernel).max():.3e} (max |K_nt| = {np.abs(nt_kernel).max():.6g})")
    print(f"neural-tangents time: {first:.2f} s first call (with jit compile), {second:.2f} s second call")
    print(f"tangent time (from the kernel file): {kernel_meta.get('seconds', '?')} s")
    print(f"python peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    sys.exit(0 if relative < args.tolerance else 1)


if __name__ == "__main__":
    main()
