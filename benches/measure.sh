#!/usr/bin/env bash
# Whole-program measurements for docs/performance.md: the default run, thread scaling,
# peak memory against the replicate count, and the Python reference. Needs hyperfine and
# GNU time (Debian: apt-get install -y hyperfine time) and, for the reference, numpy.
#
#   bash benches/measure.sh [RESULTS_DIR]
#
# Every comparison runs its commands side by side: hyperfine runs all of one command's
# runs before the next command's, so `interleaved` calls it once per round with one run
# of each command, in turn (a first round discarded), and `benches/medians.py` compares
# the medians of the rounds. A change of load on the shared machine hits every side.
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

# interleaved NAME ROUNDS [-n LABEL COMMAND]...: ROUNDS + 1 rounds of one run of each
# command, in the work folder; round 0 is the warm-up. Writes NAME-ROUND.json.
interleaved() {
    local name="$1" rounds="$2"
    shift 2
    for round in $(seq 0 "$rounds"); do
        (cd "$work" && hyperfine -N --runs 1 --export-json "$results/$name-$round.json" "$@" > /dev/null)
    done
    python3 "$repo/benches/medians.py" "$results" "$name" "$rounds"
}

# 1. The default run: built-in baseline, 200 replicates, 48 quarters, charts included.
interleaved default 10 \
    -n "default run (charts)" "$gg run --quiet --out default" \
    -n "default run (no charts)" "$gg run --quiet --no-charts --out default-nc"

# 2. Thread scaling: the same 2,000-replicate ensemble on 1 and 2 threads, and the
#    analyses' design points (64 replicates each, 16-quarter baseline) on 1 and 2.
interleaved threads 7 \
    -n "1 thread" "$gg run -n 2000 --threads 1 --no-charts --quiet --out t1" \
    -n "2 threads" "$gg run -n 2000 --threads 2 --no-charts --quiet --out t2"
printf 'extends = "%s/scenarios/baseline.toml"\n[time]\nhorizon_quarters = 16\n' "$repo" > "$work/b.toml"
common="-n 64 --no-charts --quiet"   # sensitivity runs [model]'s values, not parameter sets
sets="--no-parameter-sets"
interleaved analyses 5 \
    -n "sweep, 1 thread" "$gg sweep b.toml --set model.alignment_inertia=0.05..0.15:10 $common $sets --threads 1 --out s1" \
    -n "sweep, 2 threads" "$gg sweep b.toml --set model.alignment_inertia=0.05..0.15:10 $common $sets --threads 2 --out s2" \
    -n "sensitivity, 1 thread" "$gg sensitivity b.toml --method morris --trajectories 2 $common --threads 1 --out m1" \
    -n "sensitivity, 2 threads" "$gg sensitivity b.toml --method morris --trajectories 2 $common --threads 2 --out m2" \
    -n "levers, 1 thread" "$gg levers b.toml --keys 'patrons.USA.*budget*' $common $sets --threads 1 --out l1" \
    -n "levers, 2 threads" "$gg levers b.toml --keys 'patrons.USA.*budget*' $common $sets --threads 2 --out l2"

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
python3 benches/reference/make_core_scenario.py scenarios/baseline.toml "$work/core.toml"
(cd "$work" && "$gg" run core.toml -n 20 --no-parameter-sets --no-charts --quiet --out core)
interleaved reference 9 \
    -n "greatgame, 1 thread" "$gg run core.toml -n 200 --no-parameter-sets --threads 1 --no-charts --quiet --out g1" \
    -n "greatgame, 2 threads" "$gg run core.toml -n 200 --no-parameter-sets --threads 2 --no-charts --quiet --out g2" \
    -n "Python reference" "python3 $repo/benches/reference/greatgame_ref.py core/core/manifest.json --replicates 200 --out py"
# The two must agree in distribution (benches/reference/README.md), or the timing
# compares different work: said loudly, but the timings are still printed.
python3 benches/reference/compare.py "$work/g1/core" "$work/py" --replicates 200 --show 5 \
    | tee "$results/reference-agreement.txt" \
    || echo "WARNING: greatgame and the Python reference disagree (above): the timing compares different models"
