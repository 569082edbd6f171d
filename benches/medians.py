"""Medians of interleaved hyperfine rounds (benches/measure.sh).

    python3 benches/medians.py RESULTS NAME ROUNDS

Reads RESULTS/NAME-1.json .. NAME-ROUNDS.json (round 0 is the warm-up and is left out),
each one hyperfine run of every command, and prints per command the median wall time
and the median CPU time (user + system), then every command's ratio to the first one
(first / command: above 1, the command is faster) and to the last one when it is a
reference (its name contains "reference": reference / command). Commands named
"X, 1 thread" and "X, 2 threads" are compared as a pair instead (the speedup).
"""
import json
import os
import statistics
import sys


def main():
    root, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    runs = {}
    for round_ in range(1, rounds + 1):
        with open(os.path.join(root, f"{name}-{round_}.json")) as f:
            for r in json.load(f)["results"]:
                runs.setdefault(r["command"], []).append((r["times"][0], r["user"] + r["system"]))
    print(f"== {name} ({rounds} interleaved rounds of one run each, medians)")
    wall = {c: statistics.median(t for t, _ in v) for c, v in runs.items()}
    cpu = {c: statistics.median(u for _, u in v) for c, v in runs.items()}
    for c in runs:
        print(f"  {c:<28} wall {wall[c]:.3f} s  CPU {cpu[c]:.3f} s  (wall range {min(t for t, _ in runs[c]):.3f}-{max(t for t, _ in runs[c]):.3f})")
    names = list(runs)
    reference = names[-1] if "reference" in names[-1] else None
    pairs = [(c, c.replace(", 2 threads", ", 1 thread")) for c in names if c.endswith(", 2 threads")]
    pairs = [(two, one) for two, one in pairs if one in runs]
    for two, one in pairs:
        print(f"  {one[:-len(', 1 thread')]}: 1 -> 2 threads speedup, wall {wall[one] / wall[two]:.2f}")
    for c in names[1:]:
        if c != reference and not pairs:
            print(f"  {names[0]} / {c}: wall {wall[names[0]] / wall[c]:.2f}, CPU {cpu[names[0]] / cpu[c]:.2f}")
    if reference:
        for c in names[:-1]:
            print(f"  {reference} / {c}: wall {wall[reference] / wall[c]:.1f}, CPU {cpu[reference] / cpu[c]:.1f}")


if __name__ == "__main__":
    main()
