"""Turns the output of Benchmarks/run_open_core.sh into the markdown tables of BENCHMARKS.md (issue 10).
usage: python3 Benchmarks/ntk_resnet/summarize_open_core.py OUT.jsonl [MORE.jsonl ...] [--noise 0.05]

A measurement is everything between two '# LABEL attempt=K: CMD' lines: the program's output and the
run_isolated.py line. Of the attempts of one label the last is used (run_open_core.sh repeats a measurement
while other processes used more than NOISE of the machine). Regression rounds of every file are pooled,
leaving out any round whose baseline or new run still saw more than NOISE; for the other sections a later
file's measurement replaces an earlier one of the same label.
"""
import json
import re
import statistics
import sys

args = sys.argv[1:]
noise = 0.05
if "--noise" in args:
    i = args.index("--noise")
    noise = float(args[i + 1])
    del args[i:i + 2]


def parse(path):
    runs, order, extra = {}, [], []  # label -> {"attempts": k, "cmd": ..., "lines": [...]}
    current = None
    for raw in open(path):
        line = raw.rstrip("\n")
        m = re.match(r"# (.*) attempt=(\d+): (.*)$", line)
        if m:
            label = m.group(1)
            if label not in runs:
                order.append(label)
            runs[label] = {"attempts": int(m.group(2)), "cmd": m.group(3), "lines": []}
            current = runs[label]
            continue
        if line.startswith("## stderr: ") and current is not None:
            current["stderr"] = line[len("## stderr: "):]
            continue
        if line.startswith("# "):
            current = None
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if current is not None:
            current["lines"].append(rec if rec is not None else line)
        elif rec is not None:
            extra.append(rec)
    return runs, order, extra


files = [parse(p) for p in args]
runs, order, extra = {}, [], []
for r, o, e in files:
    runs.update(r)
    order += [l for l in o if l not in order]
    extra += e


def part(run, key):
    for x in run["lines"]:
        if isinstance(x, dict) and key in x:
            return x
    return None


def iso(run):
    r = part(run, "isolated")
    return r["isolated"] if r else {}


def kernel_seconds(run):
    for x in run["lines"]:
        if isinstance(x, str):
            m = re.search(r"kernel \S+ in ([0-9.]+) s", x)
            if m:
                return float(m.group(1))
    return None


def flag(i):
    f = i.get("foreign_cpu_frac")
    return "" if f is None or f <= noise else " ⚠"


# Regression: baseline vs new, per workload, rounds of every file pooled (contaminated rounds left out).
names = {"train": "SGD step", "pgd": "PGD-20 + SGD step", "ntk": "full NTK"}
workloads = []
for label in order:
    m = re.match(r"regression (baseline|new) (\S+) (\S+) round=(\d+)", label)
    if m and (m.group(2), m.group(3)) not in workloads:
        workloads.append((m.group(2), m.group(3)))
fmt = lambda xs: ", ".join(f"{x:.0f}" if x >= 1000 else f"{x:.1f}" for x in xs)
if workloads:
    print("| net | workload | rounds | baseline median ms (round medians) | new median ms (round medians) | new / baseline | paired ratio: median (range) | peak RSS MB base / new | other CPU (max) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for net, task in workloads:
        b, n, ratios, rss_b, rss_n, others, dropped = [], [], [], [], [], [], 0
        for fruns, _, _ in files:
            r = 1
            while f"regression baseline {net} {task} round={r}" in fruns:
                rb, rn = fruns[f"regression baseline {net} {task} round={r}"], fruns.get(f"regression new {net} {task} round={r}")
                pb, pn = part(rb, "median_ms"), part(rn, "median_ms") if rn else None
                r += 1
                if not (pb and pn):
                    continue
                fb, fn = iso(rb).get("foreign_cpu_frac", 1), iso(rn).get("foreign_cpu_frac", 1)
                if max(fb, fn) > noise:
                    dropped += 1
                    continue
                b.append(pb["median_ms"]); n.append(pn["median_ms"]); ratios.append(pn["median_ms"] / pb["median_ms"])
                rss_b.append(iso(rb).get("peak_rss_mb", 0)); rss_n.append(iso(rn).get("peak_rss_mb", 0))
                others += [fb, fn]
        if not b:
            continue
        mb, mn = statistics.median(b), statistics.median(n)
        print(f"| {net} | {names.get(task, task)} | {len(b)}{f' (+{dropped} noisy, left out)' if dropped else ''} | {mb:.1f} ({fmt(b)}) | "
              f"{mn:.1f} ({fmt(n)}) | **{mn / mb:.3f}** | {statistics.median(ratios):.3f} ({min(ratios):.3f}–{max(ratios):.3f}) | "
              f"{max(rss_b):.0f} / {max(rss_n):.0f} | {max(others):.3f} |")
    print()

# Kernels: baseline vs new.
comparisons = [x for x in extra if "compare" in x]
kern = [c for c in comparisons if "baseline vs new" in c["compare"]]
if kern:
    print("| kernel | bytes identical | entries different | relative Frobenius difference | max abs difference (max entry) | same parameters / inputs | seconds base / new |")
    print("|---|---|---|---|---|---|---|")
    for c in kern:
        print(f"| {c['compare'].split()[0]} {c['shape_a'][0]} × {c['shape_a'][1]} | {'yes' if c.get('kernel_bytes_identical') else 'no'} | "
              f"{c.get('entries_different')} | {c.get('relative_frobenius', float('nan')):.2e} | "
              f"{c.get('max_abs_difference', float('nan')):.2e} ({c.get('max_abs_entry', float('nan')):.4g}) | "
              f"{c.get('parameters_identical')} / {c.get('inputs_identical')} | {c.get('seconds_a')} / {c.get('seconds_b')} |")
    print()

# ResNet-20: Tangent vs neural-tangents.
sizes = sorted({int(m.group(1)) for l in order for m in [re.match(r"resnet \S+ n=(\d+)", l)] if m} |
               {int(m.group(2)) for l in order for m in [re.match(r"resnet nt impl=(\d) n=(\d+)", l)] if m})
if sizes:
    print("| N (kernel) | implementation | seconds | peak RSS MB | relative error vs Tangent | time / Tangent's | memory / Tangent's | other CPU |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        t = runs.get(f"resnet tangent n={n}")
        tp = runs.get(f"resnet tangent-probe-data n={n}")
        ts = kernel_seconds(t) if t else None
        tps = kernel_seconds(tp) if tp else None
        trss = iso(t).get("peak_rss_mb") if t else None
        tprss = iso(tp).get("peak_rss_mb") if tp else None
        same = [c for c in comparisons if c["compare"].startswith(f"resnet20 n={n} ")]
        note = " (kernel bytes identical)" if same and same[0].get("kernel_bytes_identical") else ""
        # Tangent's time: the mean of its two runs (same kernel); its memory: the probe-only run (the engine's).
        times = [x for x in (ts, tps) if x is not None]
        ref_s = sum(times) / len(times) if times else None
        ref_m = tprss or trss
        if t:
            print(f"| {n} ({n * 10}²) | Tangent, whole data set loaded | {ts} | {trss} | — | — | — | {iso(t).get('foreign_cpu_frac')} |")
        if tp:
            print(f"| {n} | Tangent, probe-only data folder{note} | {tps} (mean of both {ref_s:.2f}) | {tprss} | — | 1 | 1 | {iso(tp).get('foreign_cpu_frac')} |")
        for impl in (1, 2, 3):
            run = runs.get(f"resnet nt impl={impl} n={n}")
            skipped = [x for x in extra if "skipped" in x and x["skipped"]["impl"] == impl and x["skipped"]["samples"] == n]
            if skipped:
                print(f"| {n} | neural-tangents impl {impl} | not run: {skipped[0]['skipped']['why']} | | | | | |")
                continue
            if not run:
                continue
            i = iso(run)
            r = part(run, "relative_error_vs_tangent")
            if r is None or i.get("killed"):
                why = i.get("killed") or run.get("stderr") or f"exit {i.get('exit')}"
                print(f"| {n} | neural-tangents impl {impl} | failed after {i.get('wall_s')} s: {why} | "
                      f"{i.get('polled_peak_rss_mb')} | | | | {i.get('foreign_cpu_frac')} |")
                continue
            print(f"| {n} | neural-tangents impl {impl} | {r['seconds']} (first call {r['first_call_s']}) | {i['peak_rss_mb']:.0f} "
                  f"(floor {r.get('rss_before_first_call_mb')}) | {r['relative_error_vs_tangent']:.2e} | "
                  f"{r['seconds'] / ref_s:.2f} | {i['peak_rss_mb'] / ref_m:.2f} | {i.get('foreign_cpu_frac')}{flag(i)} |")
    print()

noisy, retried, measured = [], 0, 0
for fruns, forder, _ in files:
    measured += len(forder)
    retried += sum(1 for l in forder if fruns[l]["attempts"] > 1)
    noisy += [(l, fruns[l]["attempts"], iso(fruns[l]).get("foreign_cpu_frac")) for l in forder
              if (iso(fruns[l]).get("foreign_cpu_frac") or 0) > noise]
print(f"measurements: {measured}; repeated for noise: {retried}; still above {noise} after the last attempt: {len(noisy)}")
for l, k, f in noisy:
    print(f"  {l}: attempt {k}, other CPU {f}")
