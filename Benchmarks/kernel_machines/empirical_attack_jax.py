#!/usr/bin/env python3
"""JAX + neural-tangents twin of `tangent kernel attack --kernel empirical-init:mnist-cnn` (issue 13, deliverable 7):
the empirical NTK predictor of the paper's MNIST CNN at initialisation, f(x) = Θ(x, X) Θ(X, X)⁻¹ Y with the class-mean
kernel Θ(x, x') = (1/C) Σ_c ∇θ f_c(x) · ∇θ f_c(x'), one-hot targets on the first N training images, attacked by
PGD-ℓ∞ (δ₀ = 0, sign steps, clip to the ε-ball each step and to [0, 1] at the end) through its softmax cross-entropy
on the first M test images — as Tangent computes it, by the identity Θ(x, X) α = (1/C) Σ_c J_c(x) u_c with
u_{k,c} = J_c(X)ᵀ α_{·k} (C·C parameter-space vectors, one reverse pass each over X), so the attack's input gradient
is reverse mode through C·C JVPs at x and Θ(x, X) is never formed.

The network is flax's (its own initialisation: the same architecture and distribution family as Tangent's, not the
same numbers), so accuracies are comparable, not equal. Prints one JSON line: the Gram matrix (neural-tangents'
empirical_ntk_fn in blocks), the solve, the vectors u, the compile time and the attack's time (median of --reps
PGD-10 runs), the clean and attacked accuracy, and the peak resident memory.

usage: venv_nt/bin/python empirical_attack_jax.py MNIST_DIR [--train 1000] [--test 100] [--eps 0.1] [--step 0.01]
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from mnist_files import split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mnist")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--step", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import flax.linen as nn
    import neural_tangents as nt
    from jax.flatten_util import ravel_pytree

    class MnistCNN(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Conv(32, (3, 3), padding="SAME")(x))
            x = nn.avg_pool(x, (2, 2), strides=(2, 2))
            x = nn.relu(nn.Conv(64, (3, 3), padding="SAME")(x))
            x = nn.avg_pool(x, (2, 2), strides=(2, 2))
            x = x.reshape((x.shape[0], -1))
            x = nn.relu(nn.Dense(256)(x))
            return nn.Dense(10)(x)

    train_images, train_labels = split(args.mnist, "train", args.train)
    test_images, test_labels = split(args.mnist, "t10k", args.test)
    x_train = jnp.asarray(train_images.astype(np.float32)[..., None])  # NHWC
    y_train = np.eye(10)[train_labels]
    x_test = jnp.asarray(test_images.astype(np.float32)[..., None])
    labels = jnp.asarray(test_labels.astype(np.int32))

    model = MnistCNN()
    params = model.init(jax.random.PRNGKey(args.seed), jnp.zeros((1, 28, 28, 1)))["params"]
    theta, unravel = ravel_pytree(params)
    classes = 10

    def f(p, x):
        return model.apply({"params": p}, x)

    def f_flat(t, x):
        return f(unravel(t), x)

    # Gram matrix: neural-tangents' empirical NTK traced over the outputs, divided by C, in blocks.
    start = time.perf_counter()
    ntk_fn = nt.empirical_ntk_fn(f, trace_axes=(-1,), vmap_axes=0,
                                 implementation=nt.NtkImplementation.STRUCTURED_DERIVATIVES)
    ntk_fn = nt.batch(ntk_fn, batch_size=args.block)
    gram = np.asarray(ntk_fn(x_train, None, params), dtype=np.float64) / classes
    gram_seconds = time.perf_counter() - start

    start = time.perf_counter()
    alpha = np.linalg.solve(gram, y_train)  # float64, as Tangent's Cholesky solve
    solve_seconds = time.perf_counter() - start

    # u_{k,c} = J_c(X)^T alpha_{.k}: one reverse pass over X per (k, c), in blocks of X.
    start = time.perf_counter()
    alpha32 = jnp.asarray(alpha, dtype=jnp.float32)

    # Large arrays are arguments, never closure constants: XLA would fold them into the program.
    @jax.jit
    def fold(t, x_block, cotangents):  # cotangents: [C*C, B, C]
        _, vjp = jax.vjp(lambda p: f_flat(p, x_block), t)
        return jax.vmap(lambda ct: vjp(ct)[0])(cotangents)

    u = jnp.zeros((classes * classes, theta.size), dtype=jnp.float32)
    for lo in range(0, args.train, args.block):
        a = alpha32[lo:lo + args.block]  # [B, K]
        b = a.shape[0]
        # cotangent (k, c): alpha_{.k} placed in output column c
        ct = jnp.einsum("bk,cd->kcbd", a, jnp.eye(classes, dtype=jnp.float32)).reshape(classes * classes, b, classes)
        u = u + fold(theta, x_train[lo:lo + args.block], ct)
    u = jax.block_until_ready(u)
    fold_seconds = time.perf_counter() - start

    def predictor(t, vectors, x):
        # out[i, k] = (1/C) sum_c [J(x) u_{k,c}]_{i,c}
        def jvp_column(u_kc):
            return jax.jvp(lambda p: f_flat(p, x), (t,), (u_kc,))[1]  # [B, C]
        columns = jax.vmap(jvp_column)(vectors).reshape(classes, classes, x.shape[0], classes)  # [k, c, B, C']
        return jnp.einsum("kcbc->bk", columns) / classes

    def loss(t, vectors, x, y):
        logits = predictor(t, vectors, x)
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(x.shape[0]), y])

    grad = jax.jit(jax.grad(loss, argnums=2))
    accuracy = jax.jit(lambda t, vectors, x, y: jnp.mean(jnp.argmax(predictor(t, vectors, x), axis=1) == y))

    def pgd():
        x = x_test
        for _ in range(args.steps):
            x = jnp.clip(x + args.step * jnp.sign(grad(theta, u, x, labels)), x_test - args.eps, x_test + args.eps)
        return jax.block_until_ready(jnp.clip(x, 0.0, 1.0))

    start = time.perf_counter()
    jax.block_until_ready(grad(theta, u, x_test, labels))
    compile_seconds = time.perf_counter() - start
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        adversarial = pgd()
        times.append(time.perf_counter() - start)
    print(json.dumps({
        "framework": "jax+neural-tangents", "train": args.train, "test": args.test, "eps": args.eps, "step": args.step,
        "steps": args.steps, "gram_seconds": round(gram_seconds, 2), "solve_seconds": round(solve_seconds, 2),
        "fold_seconds": round(fold_seconds, 2), "compile_seconds": round(compile_seconds, 2),
        "pgd_seconds_median": round(float(np.median(times)), 2), "pgd_seconds": [round(t, 2) for t in times],
        "clean_accuracy": float(accuracy(theta, u, x_test, labels)), "pgd_accuracy": float(accuracy(theta, u, adversarial, labels)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
