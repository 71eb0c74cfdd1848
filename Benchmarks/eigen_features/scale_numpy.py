#!/usr/bin/env python3
"""NTK eigen-features for 10,000 training points with numpy/scipy: the Python side of BENCHMARKS.md's
"Eigen-features at scale" sitting (run_scale.sh runs both sides alternately). The same work as

    tangent features evaluate --dataset mnist --data-dir MNIST --task all --train 10000 --test 1000 \
        --pick first --eigenpairs 100 --features 1-100 --attacked 1-5 --eps 0.1 --out OUT

- the notebook's FC-1 NTK (W_std^2 = 2, b_std = 0.1; PAPER.md: c = 2 x.x'/d + 0.01, q = 2|x|^2/d + 0.01,
  theta = arctan2(sqrt(qq' - c^2), c), K = (sqrt(qq' - c^2) + 2 (pi - theta) c) / pi + 0.01) of the first N
  training images, pixels in [0, 1] as float32 (as Tangent holds them), float64 arithmetic, computed in row
  blocks so that no N x N temporary besides K itself exists;
- its top-K eigenpairs: --solver subset is scipy.linalg.eigh(K, subset_by_index=[N-K, N-1]) (LAPACK dsyevr,
  overwrite_a=True: K is not needed afterwards), --solver full is numpy.linalg.eigh(K) (LAPACK dsyevd, every
  eigenpair; the top K kept);
- feature j (1 = the largest eigenvalue): f_j(x) = (1/lambda_j) K(x, X) v_j (v_j^T Y), Y one-hot (10 classes);
  usefulness = accuracy of argmax f_j on the first T test images;
- for the --attacked features, robustness = accuracy of f_j on FGSM examples against f_j itself: one step of
  eps * sign of the input gradient of the softmax cross-entropy of f_j, then clipping to [0, 1] (in float32,
  as Tangent). The gradient is the closed form: with s = sqrt(qq' - c^2),
  dK/dc = (2 (pi - theta) + c/s) / pi and dK/dq = (q'/(2s) - c^2/(q s)) / pi.

Timings (seconds, wall) are printed and written to OUT.json with the eigenvalues, usefulness and robustness.
Run with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 for one core (as TANGENT_THREADS=1).

usage: python scale_numpy.py MNIST_DIR OUT.json [--solver subset|full] [--train 10000] [--test 1000]
           [--top 100] [--attacked 1-5] [--eps 0.1]
       python scale_numpy.py --summarize FOLDER     (the table of a run_scale.sh sitting)
"""
import argparse
import json
import os
import re
import resource
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel_machines"))
from mnist_files import split  # noqa: E402

D_PIXELS = 784


def load(folder, split_name, count):
    """Images (count x 784, float32 in [0, 1], as Tangent holds them) and labels of the first `count` records."""
    images, labels = split(folder, split_name, count)
    if len(labels) < count:
        sys.exit(f"{folder}: the {split_name} split holds {len(labels)} images, fewer than the {count} asked for")
    return images.reshape(count, D_PIXELS).astype(np.float32), labels.astype(np.int64)


def sigma0(x1, x2):
    """c = 2 x1.x2 / d + 0.01 (the first layer's covariance)."""
    return 2.0 * (x1 @ x2.T) / D_PIXELS + 0.01


def fc1(c, q1, q2):
    """The FC-1 NTK from c and the variances q1 (rows), q2 (columns)."""
    qq = np.multiply.outer(q1, q2)
    s = np.sqrt(np.maximum(qq - c * c, 0))
    theta = np.arctan2(s, c)
    return (s + 2 * (np.pi - theta) * c) / np.pi + 0.01


def variances(x):
    return 2.0 * np.einsum("ij,ij->i", x, x) / D_PIXELS + 0.01


def gram(x, block=500):
    """K(X, X), computed in row blocks."""
    n = x.shape[0]
    q = variances(x)
    k = np.empty((n, n))
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        k[lo:hi] = fc1(sigma0(x[lo:hi], x), q[lo:hi], q)
    return k


def cross(x, train, q_train):
    """K(x, X) for test rows x."""
    return fc1(sigma0(x, train), variances(x), q_train)


def top_eigenpairs(k_matrix, top, solver):
    """The `top` largest eigenvalues (descending) and their eigenvectors as columns."""
    n = k_matrix.shape[0]
    if solver == "subset":
        import scipy.linalg
        values, vectors = scipy.linalg.eigh(k_matrix, subset_by_index=[n - top, n - 1], overwrite_a=True)
    else:
        values, vectors = np.linalg.eigh(k_matrix)
        values, vectors = values[n - top:], vectors[:, n - top:].copy()
    return values[::-1].copy(), vectors[:, ::-1].copy()


def feature_scores(projection, gain, weights):
    """f_j's outputs (rows x 10) from K(x, X) v_j (rows), 1/lambda_j and v_j^T Y (10)."""
    return np.outer(projection * gain, weights)


def fgsm(x_test, labels, train, q_train, v, gain, weights, eps):
    """FGSM examples against one feature f_j(x) = gain * K(x, X) v (v^T Y) (float32, clipped to [0, 1])."""
    x = x_test.astype(np.float64)
    c = sigma0(x, train)
    q1 = variances(x)
    qq = np.multiply.outer(q1, q_train)
    s = np.sqrt(np.maximum(qq - c * c, 0))
    theta = np.arctan2(s, c)
    resolved = s > 1e-7 * np.sqrt(qq)  # Tangent's parallel-input guard
    safe = np.where(resolved, s, 1.0)
    dk_dc = (2 * (np.pi - theta) + np.where(resolved, c / safe, 0)) / np.pi
    dk_dq = (q_train[None, :] / (2 * safe) - np.where(resolved, c * c / (q1[:, None] * safe), 0)) / np.pi
    dk_dq = np.where(resolved, dk_dq, s / (2 * np.pi * q1[:, None]))
    projection = ((s + 2 * (np.pi - theta) * c) / np.pi + 0.01) @ v
    del c, qq, s, theta, safe, resolved
    scores = feature_scores(projection, gain, weights)
    softmax = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    softmax[np.arange(len(labels)), labels] -= 1  # dL/df per sample, up to the batch mean's 1/T
    along = gain * (softmax @ weights)  # dL/ds_j per sample, s_j(x) = K(x, X) v
    gradient = (2.0 / D_PIXELS) * ((dk_dc * v[None, :]) @ train) + (4.0 / D_PIXELS) * x * (dk_dq @ v)[:, None]
    gradient *= along[:, None]
    step = np.sign(gradient.astype(np.float32))
    return np.clip(x_test + np.float32(eps) * step, np.float32(0), np.float32(1))


def feature_list(text):
    values = []
    for item in text.split(","):
        if "-" in item:
            lo, hi = item.split("-")
            values += list(range(int(lo), int(hi) + 1))
        elif item:
            values.append(int(item))
    return values


def run(args):
    timings = {}
    start = time.perf_counter()
    x_train, y_train = load(args.mnist, "train", args.train)
    x_test, y_test = load(args.mnist, "t10k", args.test)
    train = x_train.astype(np.float64)
    q_train = variances(train)
    timings["load"] = time.perf_counter() - start

    t = time.perf_counter()
    k_matrix = gram(train)
    timings["gram"] = time.perf_counter() - t
    t = time.perf_counter()
    values, vectors = top_eigenpairs(k_matrix, args.top, args.solver)
    del k_matrix
    timings["eigenpairs"] = time.perf_counter() - t
    print(f"{args.solver}: top {args.top} eigenpairs of the {args.train}x{args.train} Gram matrix in "
          f"{timings['eigenpairs']:.2f} s (Gram matrix {timings['gram']:.2f} s); lambda_1 = {values[0]:.6g}, "
          f"lambda_{args.top} = {values[-1]:.6g}", flush=True)

    t = time.perf_counter()
    targets = np.eye(10)[y_train]
    weights = vectors.T @ targets  # v_j^T Y, top x 10
    gains = 1 / values
    projections = cross(x_test.astype(np.float64), train, q_train) @ vectors  # test x top
    usefulness = []
    for j in range(args.top):
        predicted = feature_scores(projections[:, j], gains[j], weights[j]).argmax(axis=1)
        usefulness.append(float((predicted == y_test).mean()))
    timings["usefulness"] = time.perf_counter() - t

    t = time.perf_counter()
    robustness = {}
    for j in feature_list(args.attacked):
        adversarial = fgsm(x_test, y_test, train, q_train, vectors[:, j - 1], gains[j - 1], weights[j - 1], args.eps)
        projection = cross(adversarial.astype(np.float64), train, q_train) @ vectors[:, j - 1]
        predicted = feature_scores(projection, gains[j - 1], weights[j - 1]).argmax(axis=1)
        robustness[j] = float((predicted == y_test).mean())
    timings["attacks"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start
    for j in range(args.top):
        extra = f"  fgsm eps {args.eps} {robustness[j + 1]:.3f}" if j + 1 in robustness else ""
        print(f"feature {j + 1:5d}: lambda {values[j]:<10.4g} usefulness {usefulness[j]:.3f}{extra}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()) + f"; peak RSS {peak:.0f} MB")
    with open(args.out, "w") as f:
        json.dump({"solver": args.solver, "train": args.train, "test": args.test, "top": args.top, "eps": args.eps,
                   "numpy": np.__version__, "timings": timings, "peakRSSMB": peak, "eigenvalues": values.tolist(),
                   "usefulness": usefulness, "robustness": {str(j): r for j, r in robustness.items()}}, f, indent=1)


def time_file(path):
    """Wall seconds and max RSS (MB) from a `/usr/bin/time -v` report."""
    text = open(path).read()
    match = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if match is None:
        return None  # still running, or killed
    wall = match.group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    return seconds, rss


def summarize(folder):
    """The medians of every configuration of a run_scale.sh sitting, and how Tangent's figures compare."""
    runs = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".time"):
            continue
        stem = name[:-5]
        config = re.sub(r"-r\d+$", "", stem)
        measured = time_file(os.path.join(folder, name))
        if measured is None:
            continue
        wall, rss = measured
        loads = [open(os.path.join(folder, f"{stem}.load-{when}")).read().split()[0] for when in ("before", "after")]
        entry = {"wall": wall, "rss": rss, "load": "/".join(loads)}
        result = os.path.join(folder, stem + ".json")
        tangent = os.path.join(folder, stem, "features.json")
        if os.path.exists(result):
            data = json.load(open(result))
            entry["eigen"] = data["timings"]["gram"] + data["timings"]["eigenpairs"]
            entry["solver"] = data["timings"]["eigenpairs"]
            entry["values"] = data["eigenvalues"]
            entry["usefulness"] = data["usefulness"]
            entry["robustness"] = {int(j): r for j, r in data["robustness"].items()}
        elif os.path.exists(tangent):
            data = json.load(open(tangent))
            entry["eigen"] = data["decompositionSeconds"]
            if "solverSeconds" in (data.get("blockKrylov") or {}):
                entry["solver"] = data["blockKrylov"]["solverSeconds"]
            rows = data["features"]
            entry["values"] = [r["eigenvalue"] for r in rows]
            entry["usefulness"] = [r["usefulness"] for r in rows]
            entry["robustness"] = {r["feature"]: list(r["robustness"].values())[0] for r in rows if r["robustness"]}
        runs.setdefault(config, []).append((stem, entry))
    def spread(values):
        return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})" if values else "—"

    print("| configuration | runs | wall s | Gram + eigenpairs s | eigenpairs alone s | peak RSS MB | load before/after |")
    print("|---|---|---|---|---|---|---|")
    for config, entries in runs.items():
        rss = [e["rss"] for _, e in entries]
        print(f"| {config} | {len(entries)} | {spread([e['wall'] for _, e in entries])} | "
              f"{spread([e['eigen'] for _, e in entries if 'eigen' in e])} | "
              f"{spread([e['solver'] for _, e in entries if 'solver' in e])} | {statistics.median(rss):.0f} | "
              f"{', '.join(e['load'] for _, e in entries)} |")
    # Each configuration against the complete decompositions (numpy's, and Tangent's on Tangent's own Gram matrix).
    for config, reference_name in [("scipy-subset", "numpy-full"), ("tangent-top", "numpy-full"),
                                   ("tangent-full", "numpy-full"), ("tangent-top", "tangent-full")]:
        if config not in runs or reference_name not in runs:
            continue
        e, reference = runs[config][0][1], runs[reference_name][0][1]
        values = np.array(e["values"])
        ref = np.array(reference["values"][:len(values)])
        same = sum(a == b for a, b in zip(e["usefulness"], reference["usefulness"]))
        robust = [(j, r, reference["robustness"].get(j)) for j, r in sorted(e["robustness"].items())]
        print(f"{config} against {reference_name}: max relative eigenvalue difference {np.max(np.abs(values - ref) / ref):.2e}; "
              f"usefulness equal for {same} of {len(values)} features; robustness "
              + ", ".join(f"j={j} {r:.3f}/{p if p is None else format(p, '.3f')}" for j, r, p in robust))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        summarize(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mnist", help="folder with the MNIST IDX .gz files")
    parser.add_argument("out", help="results (JSON)")
    parser.add_argument("--solver", choices=["subset", "full"], default="subset")
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--attacked", default="1-5", help="features attacked, e.g. 1-5 or 1,2,10 ('' for none)")
    parser.add_argument("--eps", type=float, default=0.1)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
