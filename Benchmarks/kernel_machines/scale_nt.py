#!/usr/bin/env python3
"""neural-tangents' side of the kernel-regression scale benchmark (issue 13, deliverable 7): the notebook's
FC-1 NTK (stax.serial(Dense(512, sqrt(2), 0.1), Relu(), Dense(1, sqrt(2), 0.1)), NTK parameterisation) on the
first N MNIST training images and M test images, kernel_fn in blocks (nt.batch), then the t -> infinity
predictor by predict.gradient_descent_mse on one-hot targets, no ridge — what
`tangent kernel fit --kernel fc1 --task all --train N --test M` computes. Prints one JSON line: seconds for the
kernels and for the prediction, the test accuracy and the peak resident memory of the process.

usage: venv_nt/bin/python scale_nt.py MNIST_DIR [--train 10000] [--test 1000] [--block 1000] [--float32]
"""
import argparse
import json
import math
import resource
import time

import numpy as np

from mnist_files import split


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mnist")
    parser.add_argument("--train", type=int, default=10000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--block", type=int, default=1000)
    parser.add_argument("--float32", action="store_true", help="JAX's default precision (else float64, as Tangent solves)")
    args = parser.parse_args()

    import jax
    jax.config.update("jax_enable_x64", not args.float32)
    import neural_tangents as nt
    from neural_tangents import stax

    dtype = np.float32 if args.float32 else np.float64
    train_images, train_labels = split(args.mnist, "train", args.train)
    test_images, labels_test = split(args.mnist, "t10k", args.test)
    x_train = train_images.reshape(args.train, -1).astype(dtype)
    y_train = np.eye(10, dtype=dtype)[train_labels]
    x_test = test_images.reshape(args.test, -1).astype(dtype)

    _, _, kernel_fn = stax.serial(stax.Dense(512, W_std=math.sqrt(2), b_std=0.1), stax.Relu(),
                                  stax.Dense(1, W_std=math.sqrt(2), b_std=0.1))
    kernel_fn = nt.batch(kernel_fn, batch_size=args.block)

    start = time.perf_counter()
    k_train_train = np.asarray(kernel_fn(x_train, None, "ntk"))
    k_test_train = np.asarray(kernel_fn(x_test, x_train, "ntk"))
    kernel_seconds = time.perf_counter() - start

    start = time.perf_counter()
    predict_fn = nt.predict.gradient_descent_mse(k_train_train, y_train, diag_reg=0.0)
    _, fx_test = predict_fn(t=None, fx_train_0=0.0, fx_test_0=0.0, k_test_train=k_test_train)
    prediction = np.asarray(fx_test)
    predict_seconds = time.perf_counter() - start

    accuracy = float(np.mean(np.argmax(prediction, axis=1) == labels_test))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB
    print(json.dumps({"framework": "neural-tangents", "dtype": "float32" if args.float32 else "float64", "train": args.train,
                      "test": args.test, "kernel_seconds": round(kernel_seconds, 2), "predict_seconds": round(predict_seconds, 2),
                      "accuracy": accuracy, "peak_rss_mb": round(peak)}))


if __name__ == "__main__":
    main()
