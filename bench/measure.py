#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/measure.py: the measuring half of bench/run.sh (issue 9).

Starts pinload (N GiB anonymous, touched, 4k or THP, 256 KiB pinned by an
io_uring registered buffer), runs every tool against it round-robin
BENCH_RUNS times, and prints one markdown table: wall-time medians, pages/s,
user/sys CPU, peak RSS (wait4 rusage), and ratios to page-types and to the
floor reader. Optional user-space instruction counts with callgrind.

Configuration comes from bench/run.sh through the environment; run that.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

GIB = 1 << 30
PAGE = 4096


def env_list(name, default):
    return os.environ.get(name, default).replace(",", " ").split()


def start_target(pinload, gib, variant):
    argv = [pinload, "--size=%dG" % gib, "--buffer=0:256K", "--comm=benchload",
            "--thp" if variant == "thp" else "--no-thp"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = p.stdout.readline()
    if not line:
        p.wait()
        sys.exit("bench: pinload failed (exit %s): %s" % (p.returncode, " ".join(argv)))
    info = json.loads(line)
    return p, info


def anon_huge_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for ln in f:
            if ln.startswith("AnonHugePages:"):
                return int(ln.split()[1])
    return 0


def run_once(argv, tmpdir):
    """wall time, CPU and peak RSS of one run. GNU time measures the RSS: a
    child forked from python would report python's RSS before its exec."""
    rfile = os.path.join(tmpdir, "rss")
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M %x", "-o", rfile] + argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
    with open(rfile) as f:
        rss, rc = f.read().split()[-2:]
    return {"wall": t1 - t0, "user": ru.ru_utime, "sys": ru.ru_stime,
            "rss": int(rss), "rc": int(rc)}


def callgrind_ir(argv, tmpdir):
    out = os.path.join(tmpdir, "callgrind.out")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if m else None


def fmt_ratio(x):
    if x is None:
        return "-"
    return "%.1fx" % x if x < 100 else "%.0fx" % x


def tool_list():
    """[(label, argv with {pid}), ...] from the paths bench/run.sh exports"""
    pt = os.environ["BENCH_PAGE_TYPES"]
    fl = os.environ["BENCH_FLOOR"]
    pins = [("pininspect", os.environ["BENCH_PININSPECT"])]
    if os.environ.get("BENCH_PININSPECT_OLD"):
        pins.append(("old pininspect", os.environ["BENCH_PININSPECT_OLD"]))
    sources = env_list("BENCH_SOURCES", "io_uring bpf")
    tools = [("page-types -p", [pt, "-p", "{pid}"]),
             ("page-types -p -L", [pt, "-p", "{pid}", "-L"]),
             ("floor", [fl, "{pid}"]),
             ("floor --pagemap-only", [fl, "--pagemap-only", "{pid}"])]
    for name, path in pins:
        for src in sources:
            tools.append(("%s --source=%s" % (name, src), [path, "--source=" + src, "{pid}"]))
        tools.append(("%s --pages --json" % name, [path, "--pages", "--json", "{pid}"]))
    return tools


def main():
    tools = tool_list()
    pinload = os.environ["BENCH_PINLOAD"]
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    gibs = [int(g) for g in env_list("BENCH_GIB", "8")]
    variants = env_list("BENCH_VARIANTS", "4k thp")
    callgrind = os.environ.get("BENCH_CALLGRIND", "0") == "1"
    tmpdir = os.environ.get("BENCH_TMP", "/tmp")
    out_path = os.environ.get("BENCH_OUT")

    rows = []
    notes = []
    for gib in gibs:
        for variant in variants:
            target, info = start_target(pinload, gib, variant)
            pid = info["pid"]
            try:
                huge = anon_huge_kib(pid)
                notes.append("%d GiB %s target: AnonHugePages %d MiB of %d MiB%s"
                             % (gib, variant, huge // 1024, gib * 1024,
                                " (THP short: memory pressure or fragmentation)"
                                if variant == "thp" and huge < gib * 1024 * 1024 * 9 // 10 else ""))
                cmds = [(label, [a.replace("{pid}", str(pid)) for a in argv])
                        for label, argv in tools]
                res = {label: [] for label, _ in cmds}
                irs = {}
                # warm-up (and a check that every tool works on this target)
                for label, argv in cmds:
                    r = run_once(argv, tmpdir)
                    if r["rc"] not in (0, 1):
                        notes.append("%d GiB %s: %s exited %d" % (gib, variant, label, r["rc"]))
                for _ in range(runs):
                    for label, argv in cmds:
                        res[label].append(run_once(argv, tmpdir))
                if callgrind:
                    for label, argv in cmds:
                        irs[label] = callgrind_ir(argv, tmpdir)
            finally:
                target.stdin.close()
                target.wait()
            med = {label: {k: statistics.median(x[k] for x in rs) for k in ("wall", "user", "sys", "rss")}
                   for label, rs in res.items()}
            pt = med.get("page-types -p")
            ptl = med.get("page-types -p -L")
            fl = med.get("floor")
            pages = gib * GIB // PAGE
            for label, _ in cmds:
                m = med[label]
                rows.append({
                    "gib": gib, "variant": variant, "tool": label,
                    "wall": m["wall"], "user": m["user"], "sys": m["sys"],
                    "rss_mib": m["rss"] / 1024.0,
                    "mpages": pages / m["wall"] / 1e6,
                    "vs_pt": pt["wall"] / m["wall"] if pt else None,
                    "vs_ptl": ptl["wall"] / m["wall"] if ptl else None,
                    "vs_floor": fl["wall"] / m["wall"] if fl else None,
                    "cpu_vs_pt": (pt["user"] + pt["sys"]) / max(m["user"] + m["sys"], 1e-3) if pt else None,
                    "rss_vs_pt": m["rss"] / pt["rss"] if pt else None,
                    "ir": irs.get(label),
                    "walls": [x["wall"] for x in res[label]],
                })

    hdr = ("| size | pages | tool | wall (median) | Mpages/s | user | sys | peak RSS | "
           "speed vs page-types -p | vs page-types -L | vs floor | CPU vs page-types -p | RSS vs page-types |"
           + (" user instr (callgrind) |" if callgrind else ""))
    sep = "|" + "---|" * (hdr.count("|") - 1)
    lines = ["Median of %d runs after one warm-up; ratios: >1 means faster (speed, CPU) or bigger (RSS)."
             " CPU = user + sys (rusage, 1-4 ms resolution): steadier than wall time on a busy machine." % runs,
             "", hdr, sep]
    for r in rows:
        ln = ("| %d GiB | %s | %s | %.3f s | %.1f | %.3f s | %.3f s | %.1f MiB | %s | %s | %s | %s | %s |"
              % (r["gib"], r["variant"], r["tool"], r["wall"], r["mpages"], r["user"], r["sys"],
                 r["rss_mib"], fmt_ratio(r["vs_pt"]), fmt_ratio(r["vs_ptl"]),
                 fmt_ratio(r["vs_floor"]), fmt_ratio(r["cpu_vs_pt"]), fmt_ratio(r["rss_vs_pt"])))
        if callgrind:
            ln += " %s |" % ("{:,}".format(r["ir"]) if r["ir"] else "-")
        lines.append(ln)

    # the targets of issue 9
    def find(gib, variant, tool):
        for r in rows:
            if r["gib"] == gib and r["variant"] == variant and r["tool"] == tool:
                return r
        return None

    checks = []
    for gib in gibs:
        for variant, hold_t, bpf_t in (("4k", 8, 5), ("thp", 20, 10)):
            for tool, want in (("pininspect --source=io_uring", hold_t), ("pininspect --source=bpf", bpf_t)):
                r = find(gib, variant, tool)
                if r and r["vs_pt"] is not None:
                    checks.append("%d GiB %s %s: %.1fx faster than page-types -p (target %dx): %s"
                                  % (gib, variant, tool, r["vs_pt"], want,
                                     "met" if r["vs_pt"] >= want else "MISSED"))
            r = find(gib, variant, "pininspect --source=bpf")
            if variant == "4k" and r and r["vs_floor"] is not None:
                checks.append("%d GiB 4k bpf vs floor: %.2fx (target > 1): %s"
                              % (gib, r["vs_floor"], "met" if r["vs_floor"] > 1 else "MISSED"))
            r = find(gib, variant, "pininspect --pages --json")
            if r and r["vs_ptl"] is not None:
                checks.append("%d GiB %s --pages --json: %.2fx page-types -p -L (target >= 1): %s"
                              % (gib, variant, r["vs_ptl"], "met" if r["vs_ptl"] >= 1 else "MISSED"))
            for tool, lim in (("pininspect --source=io_uring", 16), ("pininspect --source=bpf", 32)):
                r = find(gib, variant, tool)
                if r:
                    checks.append("%d GiB %s %s: peak RSS %.1f MiB (target < %d): %s"
                                  % (gib, variant, tool, r["rss_mib"], lim,
                                     "met" if r["rss_mib"] < lim else "MISSED"))
    lines += ["", "Targets (issue 9):", ""] + ["- " + c for c in checks]
    if notes:
        lines += ["", "Notes:", ""] + ["- " + n for n in notes]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if out_path:
        with open(out_path, "a") as f:
            f.write(text)
        with open(out_path + ".json", "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
