#!/usr/bin/python3
# The table of make bench, from the guest's results.tsv:
#   report.py RESULTS_TSV OUT_JSON OUT_TSV [KEY=VALUE]...
# Prints the table, writes the same numbers as JSON and as TSV (the
# guest's "# key=value" header lines plus the KEY=VALUE arguments, which
# carry what only the host knows: date, load, wall time).
import json
import sys

src, out_json, out_tsv = sys.argv[1:4]
meta = {}
rows = []
header = None
with open(src) as f:
    for line in f:
        line = line.rstrip("\n")
        if line.startswith("# ") and "=" in line:
            k, v = line[2:].split("=", 1)
            meta[k] = v
        elif header is None:
            header = line.split("\t")
        elif line:
            rows.append(dict(zip(header, line.split("\t"))))
for arg in sys.argv[4:]:
    k, v = arg.split("=", 1)
    meta[k] = v

COLS = [  # key, heading, unit
    ("seq_write_MiBps", "seq write", "MiB/s"),
    ("seq_read_MiBps", "seq read", "MiB/s"),
    ("rand_read_4k_iops", "rand read", "4k IOPS"),
    ("meta_ops", "metadata", "ops/s"),
    ("create_ops", "create", "/s"),
    ("stat_ops", "stat", "/s"),
    ("unlink_ops", "unlink", "/s"),
    ("secs", "time", "s"),
]


def number(v):
    try:
        return float(v) if "." in v else int(v)
    except (TypeError, ValueError):
        return None


print()
print("make bench: %s, kernel %s, QEMU TCG %s vCPUs, host load %s"
      % (meta.get("date", "?"), meta.get("kernel", "?"), meta.get("vcpus", "?"),
         meta.get("host_load", "?")))
print("%s MiB sequential write/read, 4 KiB random reads for at most %s s, "
      "create+stat+unlink of %s files" % (meta.get("seq_mib", "?"),
                                          meta.get("randread_max_secs", "?"),
                                          meta.get("meta_files", "?")))
print("Emulated CPU on a shared host: only ratios between rows mean anything.")
print()
w = [9] + [max(len(c[1]), len(c[2]), 6) + 2 for c in COLS]
print("".join(h.ljust(n) for h, n in zip(["fs"] + [c[1] for c in COLS], w)).rstrip())
print("".join(h.ljust(n) for h, n in zip([""] + [c[2] for c in COLS], w)).rstrip())
for r in rows:
    note = r.get("note", "")
    if note.startswith("n/a:"):
        print(r["fs"].ljust(w[0]) + note)
        continue
    cells = [r["fs"]] + [r.get(c[0], "") for c in COLS]
    line = "".join(v.ljust(n) for v, n in zip(cells, w)).rstrip()
    print(line + ("   " + note if note else ""))
print()

out = []
for r in rows:
    o = {"fs": r["fs"]}
    for k in [c[0] for c in COLS]:
        o[k] = number(r.get(k))
    o["note"] = r.get("note", "")
    out.append(o)
with open(out_json, "w") as f:
    json.dump({"meta": meta, "results": out}, f, indent=2)
    f.write("\n")
with open(out_tsv, "w") as f:
    for k, v in meta.items():
        f.write("# %s=%s\n" % (k, v))
    f.write("\t".join(header) + "\n")
    for r in rows:
        f.write("\t".join(r.get(h, "") for h in header) + "\n")
