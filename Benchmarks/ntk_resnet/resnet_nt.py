"""neural-tangents' empirical NTK of Tangent's CIFAR ResNet on the same weights and inputs.

Reads two Tangent files (zstd-compressed safetensors):
  --model   the ResNet's parameters, named like Tangent's (stem.weight [O,I,kh,kw], stage1.block1.residual.body.
            conv1.weight, ..., stage2.block1.residual.shortcut.weight, fc.weight [out,in]); metadata "model" =
            "resnetD" (D = 6n + 2);
  --kernel  Tangent's full kernel ("kernel", [N*C, N*C], rows sample-major) and its probe images ("inputs",
            [N, 3, 32, 32]), metadata "seconds" = Tangent's time.
Builds the same network in Flax (NHWC; conv weights to HWIO, dense transposed; the stride-2 3x3 convolutions
pad one pixel on every side as Tangent's do, not Flax's asymmetric "SAME"), computes
nt.empirical_ntk_fn(apply_fn, trace_axes=(), implementation=IMPL) and prints one JSON line: the relative
Frobenius error against Tangent's kernel, the time of the second (compiled) call, the process's peak RSS and
its resident set just before the first call (the Python + JAX + inputs floor).
Run each implementation in its own process (peak RSS is per process):
  /work/envs/venv_nt/bin/python resnet_nt.py --model M --kernel K --impl 3
"""
import argparse
import json
import os
import resource
import struct
import subprocess
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tangent_files import read_tangent_file  # noqa: E402


def current_rss_mb():
    """The process's resident set now (MB), from /proc/self/status (0 where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--impl", type=int, default=3, help="1 jacobian contraction, 2 NTK-vector products, 3 structured derivatives")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--save-kernel", help="also write neural-tangents' kernel, [N*C, N*C] float32, as .npy")
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import flax.linen as nn
    import neural_tangents as nt

    params_file, meta = read_tangent_file(args.model)
    depth = int(meta["model"].removeprefix("resnet"))
    blocks = (depth - 2) // 6
    scale = 1.0 / np.sqrt(3 * blocks)
    kernel_file, kernel_meta = read_tangent_file(args.kernel)
    inputs = kernel_file["inputs"]
    n, classes = int(kernel_meta["samples"]), int(kernel_meta["classes"])

    hwio = lambda w: np.transpose(w, (2, 3, 1, 0))

    class Block(nn.Module):
        width: int
        stride: int
        project: bool

        @nn.compact
        def __call__(self, x):
            h = nn.Conv(self.width, (3, 3), strides=self.stride, padding=((1, 1), (1, 1)), name="conv1")(x)
            h = nn.Conv(self.width, (3, 3), padding="SAME", name="conv2")(nn.relu(h)) * scale
            s = nn.Conv(self.width, (1, 1), strides=self.stride, padding="VALID", name="shortcut")(x) if self.project else x
            return nn.relu(h + s)

    class ResNet(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(16, (3, 3), padding="SAME", name="stem")(x))
            channels = 16
            for s, width in enumerate([16, 32, 64]):
                for b in range(blocks):
                    stride = 2 if (s > 0 and b == 0) else 1
                    x = Block(width, stride, stride != 1 or channels != width, name=f"stage{s + 1}_block{b + 1}")(x)
                    channels = width
            x = x.mean(axis=(1, 2))
            return nn.Dense(classes, name="fc")(x)

    flax_params = {"stem": {"kernel": hwio(params_file["stem.weight"]), "bias": params_file["stem.bias"]},
                   "fc": {"kernel": params_file["fc.weight"].T, "bias": params_file["fc.bias"]}}
    for s in range(3):
        for b in range(blocks):
            prefix = f"stage{s + 1}.block{b + 1}.residual."
            block = {}
            for name, key in [("conv1", "body.conv1"), ("conv2", "body.conv2"), ("shortcut", "shortcut")]:
                if prefix + key + ".weight" in params_file:
                    block[name] = {"kernel": hwio(params_file[prefix + key + ".weight"]), "bias": params_file[prefix + key + ".bias"]}
            flax_params[f"stage{s + 1}_block{b + 1}"] = block

    model = ResNet()
    x = jnp.asarray(np.transpose(inputs, (0, 2, 3, 1)))
    params = jax.tree_util.tree_map(jnp.asarray, flax_params)
    reference = model.init(jax.random.PRNGKey(0), x[:1])["params"]
    shapes = lambda tree: jax.tree_util.tree_map(lambda a: tuple(a.shape), dict(tree))
    assert shapes(reference) == shapes(params), (shapes(reference), shapes(params))

    impl = {1: nt.NtkImplementation.JACOBIAN_CONTRACTION, 2: nt.NtkImplementation.NTK_VECTOR_PRODUCTS,
            3: nt.NtkImplementation.STRUCTURED_DERIVATIVES}[args.impl]
    apply_fn = lambda p, inp: model.apply({"params": p}, inp)
    kernel_fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl))
    rss_before = current_rss_mb()
    start = time.perf_counter()
    ntk = kernel_fn(x, None, params).block_until_ready()
    first = time.perf_counter() - start
    start = time.perf_counter()
    ntk = kernel_fn(x, None, params).block_until_ready()
    second = time.perf_counter() - start
    nt_kernel = np.asarray(ntk, dtype=np.float64).transpose(0, 2, 1, 3).reshape(n * classes, n * classes)
    if args.save_kernel:
        np.save(args.save_kernel, nt_kernel.astype(np.float32))
    tangent_kernel = kernel_file["kernel"].astype(np.float64)
    relative = float(np.linalg.norm(tangent_kernel - nt_kernel) / np.linalg.norm(nt_kernel))
    count = sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(params))
    print(json.dumps({"framework": "neural-tangents", "version": nt.__version__, "jax": jax.__version__,
                      "model": meta["model"], "parameters": count, "samples": n, "classes": classes,
                      "implementation": args.impl, "first_call_s": round(first, 3), "seconds": round(second, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "rss_before_first_call_mb": round(rss_before),
                      "relative_error_vs_tangent": relative, "tangent_seconds": kernel_meta.get("seconds")}))
    sys.exit(0 if relative < args.tolerance else 1)


if __name__ == "__main__":
    main()
