#!/usr/bin/env bash
# Whole-program measurements for docs/performance.md: the default run, thread scaling,
# peak memory against the replicate count, and the Python reference. Needs hyperfine and
# GNU time (Debian: apt-get install -y hyperfine time) and, for the reference, numpy.
#
#   bash benches/measure.sh [RESULTS_DIR]
#
# Every comparison runs its commands side by side in one hyperfine call (interleaved
# runs, medians), so a busy machine slows both sides alike.
set -euo pipefail
cd "$(dirname "$0")/.."
results="${1:-target/measure}"
mkdir -p "$results"
results="$(cd "$results" && pwd)"
repo="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
gg="${CARGO_TARGET_DIR:-$PWD/target}/release/greatgame"

machine() {
    echo "nproc: $(nproc)"
    grep -m1 'model name' /proc/cpuinfo || true
    grep MemTotal /proc/meminfo
    uptime
}
machine | tee "$results/machine.txt"

# 1. The default run: built-in baseline, 200 replicates, 48 quarters, charts included.
(cd "$work" && hyperfine --warmup 1 --runs 10 --export-json "$results/default.json" \
    -n "default run (charts)" "$gg run --quiet --out default" \
    -n "default run (no charts)" "$gg run --quiet --no-charts --out default-nc")

# 2. Thread scaling: the same 2,000-replicate ensemble on 1 and 2 threads.
(cd "$work" && hyperfine --warmup 1 --runs 7 --export-json "$results/threads.json" \
    -n "1 thread" "$gg run -n 2000 --threads 1 --no-charts --quiet --out t1" \
    -n "2 threads" "$gg run -n 2000 --threads 2 --no-charts --quiet --out t2")

# 3. Peak memory against the replicate count (full 48-quarter baseline, no charts).
for n in 1000 1001 10000 100000; do
    /usr/bin/time -v "$gg" run -n "$n" --no-charts --quiet --out "$work/mem" 2> "$work/time-$n.txt"
    rss=$(grep 'Maximum resident' "$work/time-$n.txt" | awk '{print $NF}')
    wall=$(grep 'Elapsed (wall' "$work/time-$n.txt" | awk '{print $NF}')
    echo "$n replicates: peak RSS ${rss} KB, wall ${wall}" | tee -a "$results/memory.txt"
done

# 4. The Python reference against greatgame, on the core model (the baseline without
#    the minerals and routes extensions, which the reference does not implement), both
#    without parameter sets (the scenario's own values, as the reference's agreement
#    check runs): the reference reads what to run from greatgame's manifest.
#    hyperfine runs all of one command's runs before the next command's, so the
#    comparison is taken in rounds of one run of each command (a first round discarded)
#    and compared by medians: a change of load on the shared machine hits every side.
python3 benches/reference/make_core_scenario.py scenarios/baseline.toml "$work/core.toml"
(cd "$work" && "$gg" run core.toml -n 20 --no-parameter-sets --no-charts --quiet --out core)
for round in 0 1 2 3 4 5 6 7 8 9; do
    (cd "$work" && hyperfine -N --runs 1 --export-json "$results/reference-$round.json" \
        -n "greatgame, 1 thread" "$gg run core.toml -n 200 --no-parameter-sets --threads 1 --no-charts --quiet --out g1" \
        -n "greatgame, 2 threads" "$gg run core.toml -n 200 --no-parameter-sets --threads 2 --no-charts --quiet --out g2" \
        -n "Python reference" "python3 $repo/benches/reference/greatgame_ref.py core/core/manifest.json --replicates 200 --out py" \
        > /dev/null)
done
# The two must agree in distribution (benches/reference/README.md), or the timing
# compares different work: said loudly, but the timings are still printed.
python3 benches/reference/compare.py "$work/g1/core" "$work/py" --replicates 200 --show 5 \
    | tee "$results/reference-agreement.txt" \
    || echo "WARNING: greatgame and the Python reference disagree (above): the timing compares different models"
python3 - "$results" <<'EOF'
import json, os, statistics, sys
root = sys.argv[1]
runs = {}
for round in range(1, 10):
    for r in json.load(open(os.path.join(root, f"reference-{round}.json")))["results"]:
        runs.setdefault(r["command"], []).append((r["times"][0], r["user"] + r["system"]))
print("== reference (9 rounds of one run each, medians)")
wall = {name: statistics.median(t for t, _ in v) for name, v in runs.items()}
cpu = {name: statistics.median(c for _, c in v) for name, v in runs.items()}
for name in runs:
    print(f"  {name:<28} wall {wall[name]:.3f} s  CPU {cpu[name]:.3f} s")
for name in runs:
    if name != "Python reference":
        print(f"  Python reference / {name}: wall {wall['Python reference'] / wall[name]:.1f}, "
              f"CPU {cpu['Python reference'] / cpu[name]:.1f}")
EOF

python3 - "$results" <<'EOF'
import json, sys, os
root = sys.argv[1]
for name in ["default", "threads"]:
    data = json.load(open(os.path.join(root, f"{name}.json")))["results"]
    print(f"== {name}")
    for r in data:
        print(f"  {r['command']:<28} median {r['median']:.3f} s  (mean {r['mean']:.3f} ± {r['stddev']:.3f}, {len(r['times'])} runs)")
    base = data[0]["median"]
    for r in data[1:]:
        print(f"  ratio {data[0]['command']} / {r['command']}: {base / r['median']:.2f}")
EOF
