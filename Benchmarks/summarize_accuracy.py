"""Turns the output folder of Benchmarks/run_accuracy.sh into the accuracy tables of BENCHMARKS.md.
usage: python3 Benchmarks/summarize_accuracy.py OUT_DIR
Reads Tangent's run folders (metrics.jsonl) and the PyTorch reference's JSON lines (torch-*.jsonl).
"""
import json, os, statistics, sys

out = sys.argv[1]

def tangent(run, name="test_accuracy"):
    path = os.path.join(out, run, "metrics.jsonl")
    if not os.path.exists(path):
        return {}
    rows = [json.loads(l) for l in open(path)]
    return {r["epoch"]: r["value"] for r in rows if r["name"] == name}

def torch(run, key="test_accuracy"):
    path = os.path.join(out, run + ".jsonl")
    if not os.path.exists(path):
        return {}
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    return {r["epoch"]: r[key] for r in rows if key in r and "epoch" in r}

def cell(d, e, digits=4):
    return f"{d[e]:.{digits}f}" if e in d else "—"

print("MNIST standard training, test accuracy")
seeds = [tangent("mnist-standard")] + [tangent(f"mnist-standard-seed{s}") for s in (1, 2)]
ref = torch("torch-mnist-standard")
print("| epochs | Tangent seed 0 | Tangent seed 1 | Tangent seed 2 | PyTorch seed 0 | Tangent − PyTorch (seed 0) |")
print("|---|---|---|---|---|---|")
for e in (1, 3, 10):
    diff = f"{(seeds[0][e] - ref[e]) * 100:+.2f} pt" if e in seeds[0] and e in ref else "—"
    print(f"| {e} | " + " | ".join(cell(s, e) for s in seeds) + f" | {cell(ref, e)} | {diff} |")

print("\nMNIST PGD-20 adversarial training")
clean, robust = tangent("mnist-pgd"), tangent("mnist-pgd", "test_robust_accuracy")
print("| epoch | Tangent clean | Tangent PGD-20 |")
print("|---|---|---|")
for e in sorted(clean):
    print(f"| {e} | {cell(clean, e)} | {cell(robust, e, 3)} |")

print("\nCIFAR-10 standard training, test accuracy (10,000 test images)")
t = [tangent(f"cifar-seed{s}") for s in (0, 1, 2)]
p = [torch(f"torch-cifar-seed{s}") for s in (0, 1, 2)]
print("| epoch | Tangent seed 0 | seed 1 | seed 2 | Tangent mean | PyTorch seed 0 | seed 1 | seed 2 | PyTorch mean | mean difference |")
print("|---|---|---|---|---|---|---|---|---|---|")
def mean(values):
    return f"{statistics.mean(values):.4f}" if values else "—"

for e in (1, 2, 3):
    tv = [s[e] for s in t if e in s]
    pv = [s[e] for s in p if e in s]
    diff = f"{(statistics.mean(tv) - statistics.mean(pv)) * 100:+.2f} pt" if tv and pv else "—"
    print(f"| {e} | " + " | ".join(cell(s, e) for s in t) + f" | {mean(tv)} | "
          + " | ".join(cell(s, e) for s in p) + f" | {mean(pv)} | {diff} |")
