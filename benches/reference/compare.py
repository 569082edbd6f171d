#!/usr/bin/env python3
"""Checks that two runs of the model agree in distribution: greatgame's output folder and
the Python reference's (or any two folders with a summary.csv).

The two programs draw different random numbers (ChaCha8 against numpy's PCG64), so they
cannot agree number for number; they should agree in the mean of every outcome up to the
noise of their replicates. For every row (host, partner, metric) that both summaries hold
at the chosen quarters, this reports the difference of the means against its standard
error, se = sqrt(sd_a^2 / n_a + sd_b^2 / n_b), and the relative difference.

A row disagrees when |z| > --z (default 4) and the difference is more than rounding
(1e-9 of the mean's size); a row whose standard error is 0 in both runs (a quantity
without noise, or one the core leaves at 0) disagrees when its means differ by more than
rounding. The check fails (exit 1) when any row has |z| > --z-max (default 6) or more than
--max-share (default 0.1%) of the rows disagree. Why these numbers: with correct code each
z is about standard normal, so |z| > 4 happens by chance in 6 of 100,000 rows (the core
baseline has 1,368 rows at three quarters, about 1,150 of them with noise: 0.07 rows
expected) and |z| > 6 in 2 of a billion; outcomes with heavy tails (rare events, lumpy
projects) make extreme z somewhat likelier than the normal says, hence the allowance of
0.1% (one row of the 1,368). A wrong rule moves many rows at once (every metric of a host,
or one metric in every host and quarter), far beyond it. The rounding floor keeps rows
whose noise is itself at rounding level (a sum of shares that is constant but for the
last bits) from counting. A relative difference threshold (say 2%) is not used to
decide: in noisy rows (a small patron's pledges, with a standard deviation of half the
mean) 2% is well within the noise of 200 replicates, and in quiet rows (alignment) far
beyond it; the relative difference is reported beside z for reading.

With parameter sets, both runs spread their replicates over the same sets (replicate i
runs set i mod K), so the spread between sets, which the standard deviations hold, does
not enter the difference of the means: the standard error is then an overestimate and
the check less sensitive. Compare runs without parameter sets for a sharp check.

The standard deviations are compared too, for information: the median ratio and the
share of rows whose ratio is outside 0.8-1.25 (about 3% by chance for 200 normal
replicates a side; more for outcomes with heavy tails).

Usage:
    python3 compare.py GREATGAME_DIR REFERENCE_DIR [--at 2027Q4,2031Q4,2035Q4]
                       [--replicates N | --replicates N_A,N_B] [--z 4] [--z-max 6]
                       [--max-share 0.001] [--show 20]

Each folder's replicate count is read from its manifest.json where it has one (greatgame
writes one); --replicates gives it for folders without (the reference writes none).
Needs only the Python standard library.
"""

import argparse
import csv
import json
import math
import os
import sys


def read_summary(folder, dates):
    rows = {}
    with open(os.path.join(folder, "summary.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["date"] in dates:
                rows[(r["date"], r["metric"], r["host"], r["partner"])] = (float(r["mean"]), float(r["sd"]))
    return rows


def replicate_count(folder, given):
    path = os.path.join(folder, "manifest.json")
    if os.path.exists(path):
        with open(path) as f:
            return int(json.load(f)["replicates"])
    if given is None:
        raise SystemExit(f"{folder}: no manifest.json to read the replicate count from; give --replicates")
    return given


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="greatgame's output folder (the one holding summary.csv)")
    ap.add_argument("b", help="the reference's output folder")
    ap.add_argument("--at", default="2027Q4,2031Q4,2035Q4", help="quarters to compare, comma-separated")
    ap.add_argument("--replicates", help="N, or N_A,N_B, for folders without a manifest.json")
    ap.add_argument("--z", type=float, default=4.0, help="|z| above which a row disagrees")
    ap.add_argument("--z-max", type=float, default=6.0, help="|z| above which one row fails the check")
    ap.add_argument("--max-share", type=float, default=0.001,
                    help="largest share of rows that may disagree (default 0.001)")
    ap.add_argument("--show", type=int, default=20, help="rows to list, largest |z| first")
    args = ap.parse_args()

    given = [None, None]
    if args.replicates:
        parts = [int(x) for x in args.replicates.split(",")]
        given = parts if len(parts) == 2 else parts * 2
    n_a = replicate_count(args.a, given[0])
    n_b = replicate_count(args.b, given[1])
    dates = set(args.at.split(","))
    a = read_summary(args.a, dates)
    b = read_summary(args.b, dates)
    shared = sorted(set(a) & set(b))
    if not shared:
        raise SystemExit(f"no shared rows at {args.at}: are the dates in both runs?")
    for folder, only in ((args.a, set(a) - set(b)), (args.b, set(b) - set(a))):
        if only:
            print(f"metrics only in {folder} (not compared): {', '.join(sorted({k[1] for k in only}))}")

    results, sd_ratios = [], []
    for key in shared:
        (ma, sa), (mb, sb) = a[key], b[key]
        diff = ma - mb
        se = math.sqrt(sa * sa / n_a + sb * sb / n_b)
        rounding = 1e-9 * max(1.0, abs(ma), abs(mb))
        scale = max(abs(ma), abs(mb))
        rel = diff / scale if scale > 0 else 0.0
        if abs(diff) <= rounding:
            z, disagrees = 0.0, False
        elif se > 0:
            z = diff / se
            disagrees = abs(z) > args.z and abs(diff) > rounding
        else:
            z, disagrees = math.copysign(math.inf, diff), True
        results.append((key, ma, mb, se, z, rel, disagrees))
        if sa > 0 and sb > 0:
            sd_ratios.append(sa / sb)

    n = len(results)
    noisy = [r for r in results if r[3] > 0]
    bad = [r for r in results if r[6]]
    extreme = [r for r in results if abs(r[4]) > args.z_max and r[6]]
    print(f"{n} shared rows at {', '.join(sorted(dates))}; replicates {n_a} and {n_b}; "
          f"{len(noisy)} with noise, {n - len(noisy)} without")
    for limit, expected in ((2.0, 0.0455), (3.0, 0.0027), (args.z, math.erfc(args.z / math.sqrt(2)))):
        share = sum(1 for r in noisy if abs(r[4]) > limit) / max(1, len(noisy))
        print(f"  |z| > {limit:g}: {share:.4%} of the rows with noise (standard normal: {expected:.4%})")
    big = sum(1 for r in results if abs(r[5]) > 0.02)
    print(f"  relative difference above 2%: {big} rows ({big / n:.2%}), "
          f"of which {sum(1 for r in results if abs(r[5]) > 0.02 and abs(r[4]) > 3)} with |z| > 3")
    if sd_ratios:
        sd_ratios.sort()
        outside = sum(1 for r in sd_ratios if not 0.8 <= r <= 1.25) / len(sd_ratios)
        print(f"  standard deviations, a over b: median ratio {sd_ratios[len(sd_ratios) // 2]:.3f}, "
              f"outside 0.8-1.25 in {outside:.2%} of the rows with noise (for information)")
    print(f"  disagreeing (|z| > {args.z:g}, or a difference beyond rounding without noise): "
          f"{len(bad)} rows ({len(bad) / n:.3%}; allowed {args.max_share:.3%}); |z| > {args.z_max:g}: {len(extreme)}")
    if args.show and results:
        print(f"largest |z| (date, metric, host, partner: mean a, mean b, se, z, relative difference):")
        for key, ma, mb, se, z, rel, dis in sorted(results, key=lambda r: -abs(r[4]))[:args.show]:
            flag = "  <- disagrees" if dis else ""
            print(f"  {key[0]} {key[1]} {key[2]} {key[3] or '-'}: {ma:.6g} {mb:.6g} se {se:.3g} "
                  f"z {z:+.2f} rel {rel:+.3%}{flag}")
    ok = not extreme and len(bad) <= args.max_share * n
    print("agree" if ok else "DISAGREE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
