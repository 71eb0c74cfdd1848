"""Tables of REPRODUCTION.md from the runs' metrics.csv files (no third-party packages).

usage: python3 summarize.py section5 RUNS_FOLDER [COMPARISON_CSV ...]
           # mnist-std-s{0,1,2} against mnist-pgd-s{0,1,2}: the run folders found, else the run of the
           # same label in the first COMPARISON_CSV that has it (committed comparison.csv files of `tangent analyze`)
       python3 summarize.py cifar RUNS_FOLDER [COMPARISON_CSV ...]   # cifar-std-s0 against cifar-pgd-s0
       python3 summarize.py e1 RUNS_FOLDER         # e1-base against e1-lin{0,1,3}
"""
import csv
import os
import statistics
import sys


def metrics(folder):
    """{epoch: {name: value}} of a run folder's metrics.csv (the last value of a name in an epoch)."""
    by_epoch = {}
    with open(os.path.join(folder, "metrics.csv"), newline="") as f:
        for row in csv.DictReader(f):
            by_epoch.setdefault(int(row["epoch"]), {})[row["name"]] = float(row["value"])
    return by_epoch


def cell(values, digits):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


# comparison.csv (written by `tangent analyze`) names the metrics of metrics.csv differently.
COMPARISON_NAMES = {"kernel_distance_to_initial": "ntk_distance_to_initial", "kernel_norm": "ntk_norm",
                    "concentration_top20": "ntk_concentration_top20", "eigenvalue_mass_top20": "ntk_eigenvalue_mass_top20",
                    "test_accuracy": "test_accuracy", "test_robust_accuracy": "test_robust_accuracy"}


def from_comparison(path, label):
    """{epoch: {name: value}} of one run of a committed comparison.csv, in metrics.csv's names. The kernel
    distance to the previous epoch, d = 1 - <A,B>/(|A||B|), follows from the norms and the velocity |A - B|
    (<A,B> = (|A|^2 + |B|^2 - |A - B|^2) / 2)."""
    by_epoch, velocity = {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["run"] != label:
                continue
            epoch, value = int(row["epoch"]), float(row["value"])
            if row["metric"] == "kernel_velocity":
                velocity[epoch] = value
            elif row["metric"] in COMPARISON_NAMES:
                by_epoch.setdefault(epoch, {})[COMPARISON_NAMES[row["metric"]]] = value
    for epoch, v in velocity.items():
        a, b = by_epoch.get(epoch, {}).get("ntk_norm"), by_epoch.get(epoch - 1, {}).get("ntk_norm")
        if a and b:
            by_epoch[epoch]["ntk_distance_to_previous"] = 1 - (a * a + b * b - v * v) / (2 * a * b)
    return by_epoch


def runs(root, prefix, label, seeds, previous):
    """The runs RUNS/PREFIX-sS that exist as folders, else the run labelled LABEL sS in the first of the
    comparison files `previous` that has it."""
    found = []
    for seed in seeds:
        folder = os.path.join(root, f"{prefix}-s{seed}")
        if os.path.isdir(folder):
            found.append(metrics(folder))
            continue
        for path in previous:
            m = from_comparison(path, f"{label} s{seed}") if os.path.exists(path) else None
            if m:
                found.append(m)
                break
    return found


def section5(root, *previous):
    table(runs(root, "mnist-std", "standard", range(3), previous), runs(root, "mnist-pgd", "PGD ε=0.3", range(3), previous))


def cifar(root, *previous):
    table(runs(root, "cifar-std", "standard", [0], previous), runs(root, "cifar-pgd", "PGD ε=8/255", [0], previous))


def table(standard, pgd):
    """Standard against PGD training, epoch by epoch: mean ± sd over the seeds of each."""
    print(f"<!-- {len(standard)} standard and {len(pgd)} PGD runs -->")
    columns = [("ntk_distance_to_initial", "d(K_t, K_0)", 4), ("ntk_distance_to_previous", "d(K_t, K_t−1)", 4),
               ("ntk_norm", "‖K_t‖ (10⁵)", 2), ("ntk_concentration_top20", "λ²-mass top-20", 4),
               ("ntk_eigenvalue_mass_top20", "λ-mass top-20", 4), ("test_accuracy", "test acc", 3),
               ("test_robust_accuracy", "test PGD-20 acc", 3)]
    epochs = sorted(set().union(*[set(m) for m in standard + pgd]))
    print("| epoch | " + " | ".join(f"{title} std / PGD" for _, title, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for e in epochs:
        cells = []
        for name, _, digits in columns:
            scale = 1e-5 if name == "ntk_norm" else 1
            s = [m[e][name] * scale for m in standard if e in m and name in m[e]]
            p = [m[e][name] * scale for m in pgd if e in m and name in m[e]]
            cells.append(f"{cell(s, digits)} / {cell(p, digits)}")
        print(f"| {e} | " + " | ".join(cells) + " |")


def e1(root):
    runs = [("PGD, not linearized", "e1-base"), ("linearized at 0", "e1-lin0"), ("linearized at 1", "e1-lin1"),
            ("linearized at 3", "e1-lin3")]
    found = [(label, metrics(os.path.join(root, folder))) for label, folder in runs if os.path.isdir(os.path.join(root, folder))]
    epochs = sorted(set().union(*[set(m) for _, m in found]) - {0})
    print("| epoch | " + " | ".join(f"{label}: clean / PGD-20 (gap)" for label, _ in found) + " |")
    print("|---|" + "---|" * len(found))
    for e in epochs:
        cells = []
        for _, m in found:
            row = m.get(e, {})
            if "test_accuracy" in row and "test_robust_accuracy" in row:
                clean, robust = row["test_accuracy"], row["test_robust_accuracy"]
                cells.append(f"{clean:.3f} / {robust:.3f} ({clean - robust:.3f})")
            else:
                cells.append("–")
        print(f"| {e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    {"section5": section5, "cifar": cifar, "e1": e1}[sys.argv[1]](*sys.argv[2:])
