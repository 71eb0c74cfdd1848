"""Per-epoch summary of `tangent features dynamics` results: for each run and epoch, the full kernel
predictor's held-out accuracy, the mean usefulness and robustness (each attack) of the evaluated features,
and Spearman's ρ between feature index and robustness under the last attack.

usage: python3 features_table.py OUT/features-dynamics.json
"""
import json
import sys


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx) ** 0.5
    syy = sum((b - my) ** 2 for b in ry) ** 0.5
    return float("nan") if sxx == 0 or syy == 0 else sxy / (sxx * syy)


results = json.load(open(sys.argv[1]))
keys = results["attackColumns"]
print("| run | epoch | full predictor | mean usefulness | " + " | ".join(f"mean robustness {k}" for k in keys)
      + f" | ρ(j, robustness {keys[-1]}) | features 1–3 robustness {keys[-1]} |")
print("|---|---|---|---|" + "---|" * len(keys) + "---|---|")
for run in results["runs"]:
    for e in run["epochs"]:
        features = e["features"]
        useful = sum(f["usefulness"] for f in features) / len(features)
        robust = [sum(f["robustness"][k] for f in features) / len(features) for k in keys]
        rho = spearman([f["feature"] for f in features], [f["robustness"][keys[-1]] for f in features])
        top = ", ".join(f"{f['robustness'][keys[-1]]:.2f}" for f in features[:3])
        full = e["fullPredictorCleanAccuracy"]
        print(f"| {run['label']} | {e['epoch']} | {full:.2f} | {useful:.3f} | " + " | ".join(f"{r:.3f}" for r in robust)
              + f" | {rho:.2f} | {top} |")
