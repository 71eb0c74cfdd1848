"""Turns the output of Benchmarks/run_speed.sh into the markdown rows of BENCHMARKS.md.
usage: python3 Benchmarks/summarize_speed.py OUT.jsonl
Each measurement is the program's own JSON line (median/min/max ms, images/s) joined with the
run_isolated.py line that follows it (peak RSS of the process, CPU used by other processes meanwhile).
"""
import json, sys

rows, command, pending = [], None, None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("# "):
        command, pending = line[2:], None
        continue
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if "isolated" in rec:
        iso = rec["isolated"]
        if pending is not None:
            pending["peak_rss_mb"] = iso.get("peak_rss_mb")
            pending["foreign_cpu"] = iso.get("foreign_cpu_frac")
        elif iso.get("exit") not in (0, None):
            rows.append({"command": command, "failed": iso})
        continue
    if "median_ms" not in rec:
        continue
    rec["command"] = command
    rows.append(rec)
    pending = rec

print("| framework | net | task | batch | median ms (min–max) | images/s | peak RSS MB | other CPU |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if "failed" in r:
        print(f"| failed | | | | `{r['command']}` | | | |")
        continue
    fw = r.get("framework", "?")
    if fw == "jax" and r.get("versions"):
        fw = "jax " + str(r["versions"].get("jax", ""))
    elif fw == "torch" and r.get("versions"):
        fw = "torch " + str(r["versions"].get("torch", ""))
    task = r.get("task", "")
    if task == "ntk":
        task += " " + str(r.get("kernel") or r.get("ntk")) + (" impl " + str(r["impl"]) if r.get("impl") else "")
    if r.get("linearized"):
        task += " (linearized)"
    ips = r.get("images_per_s")
    mn, mx = r.get("min_ms"), r.get("max_ms")
    spread = f" ({mn:.1f}–{mx:.1f})" if mn is not None and mx is not None else ""
    print(f"| {fw} | {r.get('net')} | {task} | {r.get('batch', '')} | {r['median_ms']:.1f}{spread} | "
          f"{'' if ips is None else f'{ips:.0f}'} | {r.get('peak_rss_mb') or ''} | {r.get('foreign_cpu') if r.get('foreign_cpu') is not None else ''} |")
