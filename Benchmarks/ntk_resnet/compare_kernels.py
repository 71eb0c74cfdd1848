"""Compares two Tangent kernel files (zstd-compressed safetensors from `tangent ntk --out`), e.g. the same
model's kernel from two builds.

usage: python3 compare_kernels.py A.safetensors.zst B.safetensors.zst [--label L] [--model-a MA --model-b MB]

Prints one JSON line: the kernel tensors' shapes, whether their bytes are identical, the relative Frobenius
difference ||K_B - K_A||_F / ||K_A||_F, the largest entry difference and the largest entry, whether the stored
probe images ('inputs', when both files have them) are identical, each file's "seconds" metadata, and with
--model-a/--model-b whether the two parameter files (`--save-model`) hold identical tensors. The files'
own bytes always differ (the metadata carries the run's time), so only tensors are compared.
Needs numpy and the zstd command-line tool.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tangent_files import read_tangent_file  # noqa: E402


def same_tensors(a, b):
    return sorted(a) == sorted(b) and all(a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--label", default="")
    parser.add_argument("--model-a")
    parser.add_argument("--model-b")
    args = parser.parse_args()

    ta, ma = read_tangent_file(args.a)
    tb, mb = read_tangent_file(args.b)
    ka, kb = ta["kernel"], tb["kernel"]
    out = {"compare": args.label, "a": args.a, "b": args.b, "shape_a": list(ka.shape), "shape_b": list(kb.shape)}
    if ka.shape == kb.shape:
        a64, b64 = ka.astype(np.float64), kb.astype(np.float64)
        diff = b64 - a64
        out.update({
            "kernel_bytes_identical": ka.tobytes() == kb.tobytes(),
            "entries_different": int(np.count_nonzero(ka != kb)),
            "relative_frobenius": float(np.linalg.norm(diff) / np.linalg.norm(a64)),
            "max_abs_difference": float(np.abs(diff).max()),
            "max_abs_entry": float(np.abs(a64).max()),
            "norm_a": float(np.linalg.norm(a64)),
            "norm_b": float(np.linalg.norm(b64)),
        })
    if "inputs" in ta and "inputs" in tb:
        out["inputs_identical"] = ta["inputs"].shape == tb["inputs"].shape and ta["inputs"].tobytes() == tb["inputs"].tobytes()
    out["seconds_a"], out["seconds_b"] = ma.get("seconds"), mb.get("seconds")
    if args.model_a and args.model_b:
        pa, _ = read_tangent_file(args.model_a)
        pb, _ = read_tangent_file(args.model_b)
        out["parameters_identical"] = same_tensors(pa, pb)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
