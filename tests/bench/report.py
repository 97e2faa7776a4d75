#!/usr/bin/python3
# The table of make bench, from the guest's results.tsv (one line per
# round, file system and measurement):
#   report.py RESULTS_TSV OUT_JSON OUT_TSV OUT_PNG [KEY=VALUE]...
# Prints, per workload and file system, the median over the rounds and the
# spread (min-max), then the ratios the issues' targets are stated in
# (per round, modalfs against another row of the same round), then
# modalfs's requests per operation and write amplification. Writes the
# same as JSON and as TSV (medians), the tables as Markdown next to the
# JSON (for Documentation/benchmarks.md), and a PNG chart. KEY=VALUE carry
# what only the host knows: date, load, wall time.
import json
import os
import statistics
import sys

src, out_json, out_tsv, out_png = sys.argv[1:5]
meta = {}
data = {}   # (fs, metric) -> {round: value or None}
notes = {}  # (fs, metric) -> [note]
fss = []
with open(src) as f:
    header = None
    for line in f:
        line = line.rstrip("\n")
        if line.startswith("# ") and "=" in line:
            k, v = line[2:].split("=", 1)
            meta[k] = v
            continue
        if header is None:
            header = line.split("\t")
            continue
        if not line:
            continue
        rnd, fs, m, v, note = (line.split("\t") + [""] * 5)[:5]
        if fs not in fss:
            fss.append(fs)
        try:
            val = float(v)
        except ValueError:
            val = None
        data.setdefault((fs, m), {})[int(rnd)] = val
        if note:
            notes.setdefault((fs, m), []).append("r%s: %s" % (rnd, note))
for arg in sys.argv[5:]:
    k, v = arg.split("=", 1)
    meta[k] = v
order = [f for f in ["tmpfs", "nfs", "fuse", "fuse-wb", "modalfs"] if f in fss]
order += [f for f in fss if f not in order]

METRICS = [  # key, label, unit, higher is better
    ("untar_s", "untar (%s entries)" % meta.get("tar_entries", "?"), "s", False),
    ("find_s", "find -printf %s, cold", "s", False),
    ("rm_s", "rm -rf of that tree", "s", False),
    ("parcreate_ops", "4 procs x %s creates" % meta.get("par_files", "?"), "files/s", True),
    ("create_ops", "create %s files" % meta.get("meta_files", "?"), "/s", True),
    ("stat_ops", "stat, cold caches", "/s", True),
    ("unlink_ops", "unlink", "/s", True),
    ("sqlite_delete_tps", "SQLite DELETE, sync=FULL", "txn/s", True),
    ("sqlite_wal_tps", "SQLite WAL, sync=FULL", "txn/s", True),
    ("seqwrite_MiBps", "seq write %s MiB+fsync" % meta.get("seq_mib", "?"), "MiB/s", True),
    ("coldread_MiBps", "seq read, cold", "MiB/s", True),
    ("warmread_MiBps", "seq read, warm", "MiB/s", True),
    ("randread_iops", "4k rand read, cold", "IOPS", True),
    ("randwrite_fsync_iops", "4k rand write+fsync", "IOPS", True),
]
# (metric, reference row, target, "ge"/"le", issue)
TARGETS = [
    ("create_ops", "fuse", 2.0, "ge", "11 (10: 1.5)"),
    ("unlink_ops", "fuse", 2.0, "ge", "11 (10: 1.5)"),
    ("stat_ops", "fuse", 1.5, "ge", "11"),
    ("untar_s", "fuse", 0.5, "le", "11 (10: 0.6)"),
    ("rm_s", "fuse", 0.5, "le", "11 (10: 0.6)"),
    ("find_s", "fuse", 1.0, "le", "11"),
    ("coldread_MiBps", "nfs", 1.5, "ge", "11"),
    ("warmread_MiBps", "tmpfs", 0.95, "ge", "11"),
    ("seqwrite_MiBps", "nfs", 1.5, "ge", "10"),
    ("sqlite_delete_tps", "fuse", 1.0, "ge", "10"),
    ("sqlite_wal_tps", "fuse", 1.0, "ge", "10"),
]
ABS_TARGETS = [  # modalfs-only: metric, label, target (<=), issue
    ("req_untar", "requests per untarred entry", 3.0, "11 (for 200 files)"),
    ("wamp_seqwrite", "state bytes per app byte, seq write", 1.2, "10"),
    ("wamp_randwrite", "state bytes per app byte, 4k rand overwrite", 3.0, "10"),
]


def stats(fs, m):
    vals = [v for v in data.get((fs, m), {}).values() if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def fmt(x):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def cell(s):
    if s is None:
        return "n/a"
    if s["n"] == 1:
        return fmt(s["median"])
    return "%s (%s-%s)" % (fmt(s["median"]), fmt(s["min"]), fmt(s["max"]))


def ratio(m, ref):
    a, b = data.get(("modalfs", m), {}), data.get((ref, m), {})
    rs = [a[r] / b[r] for r in a if r in b and a[r] is not None and b[r]]
    if not rs:
        return None
    return {"median": statistics.median(rs), "min": min(rs), "max": max(rs), "n": len(rs)}


print()
print("make bench: %s, kernel %s, QEMU TCG %s vCPUs, %s rounds, host load %s at start, %s at end"
      % (meta.get("date", "?"), meta.get("kernel", "?"), meta.get("vcpus", "?"),
         meta.get("rounds", "?"), meta.get("host_load", "?"), meta.get("host_load_end", "?")))
print("Cells: median over the rounds (min-max). Emulated CPU on a shared host: only ratios")
print("within one run mean anything, and no win smaller than the spread.")
print()
for fs in order:
    for k, ns in notes.items():
        if k[0] == fs and k[1] == "setup":
            print("%s: %s" % (fs, "; ".join(ns)))
print()
w0, wc = 28, 22
print("workload".ljust(w0) + "unit".ljust(9) + "".join(f.ljust(wc) for f in order))
out_rows = {}
for key, label, unit, _ in METRICS:
    cells = []
    for fs in order:
        s = stats(fs, key)
        out_rows.setdefault(fs, {})[key] = s
        cells.append(cell(s))
    print(label.ljust(w0) + unit.ljust(9) + "".join(c.ljust(wc) for c in cells))
print()
why = [(k, ns) for k, ns in notes.items() if k[1] not in ("setup",) and not k[1].startswith(("req_", "wamp_"))]
if why:
    print("n/a and notes:")
    for (fs, m), ns in why:
        print("  %s %s: %s" % (fs, m, "; ".join(ns)[:300]))
    print()

ratios = []
reqs = {}
if "modalfs" in order:
    print("Targets (ratio modalfs/reference per round: median (min-max); vs fuse-wb for comparison):")
    for m, ref, tgt, how, issue in TARGETS:
        r = ratio(m, ref)
        rwb = ratio(m, "fuse-wb") if ref == "fuse" else None
        if r is None:
            verdict = "n/a"
        else:
            ok = (lambda x: x >= tgt) if how == "ge" else (lambda x: x <= tgt)
            if ok(r["min"]) and ok(r["max"]):
                verdict = "met in every round"
            elif not ok(r["min"]) and not ok(r["max"]):
                verdict = "missed by %.0f%% (median)" % (abs(r["median"] / tgt - 1) * 100)
            else:
                verdict = "within the spread"
        print("  %-22s vs %-6s %s %-5s issue %-13s %-20s %s%s" % (
            m, ref, ">=" if how == "ge" else "<=", tgt, issue, cell(r), verdict,
            ("; vs fuse-wb " + cell(rwb)) if rwb else ""))
        ratios.append({"metric": m, "ref": ref, "target": tgt, "op": how, "issue": issue,
                       "ratio": r, "ratio_fuse_wb": rwb, "verdict": verdict})
    print()
    print("modalfs, from debugfs modalfs/stats (requests per unit) and the daemon's /proc/PID/io:")
    for key, label, unit, _ in METRICS:
        k = "req_" + key.rsplit("_", 1)[0] if not key.endswith("_s") else "req_" + key[:-2]
        if key.endswith(("_MiBps",)):
            k = "req_" + key
        s = stats("modalfs", k) or stats("modalfs", "req_" + key)
        if s is None:
            continue
        kk = k if stats("modalfs", k) else "req_" + key
        last = (notes.get(("modalfs", kk)) or [""])[-1]
        per = "MiB" if key.endswith("MiBps") else ("4 KiB op" if "rand" in key else
                                                    ("txn" if "sqlite" in key else "entry/file"))
        print("  %-28s %-18s per %-10s %s" % (label, cell(s), per, last[:90]))
        reqs[kk] = s
    for m, label, tgt, issue in ABS_TARGETS:
        s = stats("modalfs", m)
        v = "n/a" if s is None else ("met" if s["max"] <= tgt else
                                     ("missed" if s["min"] > tgt else "within the spread"))
        print("  target (issue %s): %s <= %s: %s -> %s" % (issue, label, tgt, cell(s), v))
        ratios.append({"metric": m, "target": tgt, "op": "le", "issue": issue, "value": s, "verdict": v})
    print()

with open(out_json, "w") as f:
    json.dump({"meta": meta, "results": out_rows, "ratios": ratios,
               "raw": [{"fs": k[0], "metric": k[1], "rounds": v, "notes": notes.get(k, [])}
                       for k, v in data.items()]}, f, indent=2)
    f.write("\n")
out_md = os.path.splitext(out_json)[0] + ".md"
with open(out_md, "w") as f:
    f.write("%s, commit %s, kernel %s, QEMU TCG %s vCPUs, %s round(s); host load %s at start, "
            "%s at end; VM run %s s\n\n" % (
                meta.get("date", "?"), meta.get("commit", "?"), meta.get("kernel", "?"),
                meta.get("vcpus", "?"), meta.get("rounds", "?"), meta.get("host_load", "?"),
                meta.get("host_load_end", "?"), meta.get("vm_secs", "?")))
    f.write("| workload | unit | " + " | ".join(order) + " |\n")
    f.write("|---|---|" + "---|" * len(order) + "\n")
    for key, label, unit, _ in METRICS:
        f.write("| %s | %s | %s |\n" % (label, unit, " | ".join(cell(out_rows[fs][key]) for fs in order)))
    if ratios:
        f.write("\n| target | modalfs / reference, per round | verdict |\n|---|---|---|\n")
        for r in ratios:
            if "ref" in r:
                f.write("| %s vs %s %s %s (issue %s) | %s | %s |\n" % (
                    r["metric"], r["ref"], ">=" if r["op"] == "ge" else "<=", r["target"],
                    r["issue"], cell(r["ratio"]), r["verdict"]))
            else:
                f.write("| %s <= %s (issue %s) | %s | %s |\n" % (
                    r["metric"], r["target"], r["issue"], cell(r["value"]), r["verdict"]))
    if "modalfs" in order and reqs:
        f.write("\n| modalfs requests per unit | median (min-max) | last round's requests |\n|---|---|---|\n")
        for k, s in reqs.items():
            last = (notes.get(("modalfs", k)) or [""])[-1]
            f.write("| %s | %s | %s |\n" % (k[4:], cell(s), last))
with open(out_tsv, "w") as f:
    for k, v in meta.items():
        f.write("# %s=%s\n" % (k, v))
    f.write("metric\t" + "\t".join("%s_median\t%s_min\t%s_max" % (x, x, x) for x in order) + "\n")
    for key, _, _, _ in METRICS:
        vals = []
        for fs in order:
            s = out_rows[fs][key]
            vals += ["n/a"] * 3 if s is None else [fmt(s["median"]), fmt(s["min"]), fmt(s["max"])]
        f.write(key + "\t" + "\t".join(vals) + "\n")

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("report.py: no matplotlib (apt-get install python3-matplotlib): no chart")
    sys.exit(0)
n = len(METRICS)
cols = 4
rows = (n + cols - 1) // cols
fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows))
for ax, (key, label, unit, hib) in zip(axes.flat, METRICS):
    xs, ys, lo, hi = [], [], [], []
    for fs in order:
        s = out_rows[fs][key]
        xs.append(fs)
        ys.append(s["median"] if s else 0)
        lo.append(s["median"] - s["min"] if s else 0)
        hi.append(s["max"] - s["median"] if s else 0)
    ax.bar(xs, ys, yerr=[lo, hi], capsize=3,
           color=["C3" if x == "modalfs" else "C0" for x in xs])
    ax.set_title("%s (%s, %s)" % (label, unit, "higher is better" if hib else "lower is better"),
                 fontsize=8)
    ax.tick_params(labelsize=7)
for ax in list(axes.flat)[n:]:
    ax.axis("off")
fig.suptitle("make bench %s, load %s: median of %s rounds, bars = min-max"
             % (meta.get("date", "?"), meta.get("host_load", "?"), meta.get("rounds", "?")), fontsize=9)
fig.tight_layout()
fig.savefig(out_png, dpi=90)
