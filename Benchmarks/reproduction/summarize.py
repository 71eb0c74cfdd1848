"""Tables of REPRODUCTION.md from the runs' metrics.csv files (no third-party packages).

usage: python3 summarize.py section5 RUNS_FOLDER   # mnist-std-s{0,1,2} against mnist-pgd-s0
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


def section5(root):
    standard = [metrics(os.path.join(root, f"mnist-std-s{s}")) for s in range(3) if os.path.isdir(os.path.join(root, f"mnist-std-s{s}"))]
    pgd = [metrics(os.path.join(root, "mnist-pgd-s0"))]
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
    {"section5": section5, "e1": e1}[sys.argv[1]](sys.argv[2])
