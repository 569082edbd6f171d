#!/usr/bin/env bash
# Records the outputs of every command on every shipped scenario, small and quick, so that
# two builds can be compared byte for byte: a refactoring must not change a single output.
#
#   tests/same_outputs.sh record BIN DIR      # run BIN's commands, write everything to DIR
#   tests/same_outputs.sh compare DIR_A DIR_B # byte-for-byte comparison of two records
#
# For example, before and after a change:
#
#   git stash; cargo build --release; cp target/release/greatgame /tmp/greatgame-before
#   git stash pop; cargo build --release
#   tests/same_outputs.sh record /tmp/greatgame-before /tmp/before
#   tests/same_outputs.sh record target/release/greatgame /tmp/after
#   tests/same_outputs.sh compare /tmp/before /tmp/after
#
# A record holds each command's output folder, its stdout and its exit code. `compare`
# ignores `manifest.json` and `shard.json` (they record the command line, the paths and
# the version) and stderr (it reports timings), and compares everything else: every table,
# chart, report and `part.bin`, every summary printed on stdout and every exit code.
#
# Run from the checkout. Backtest and calibrate need the observations file
# (../shared/data/observed.csv, or OBSERVED=path); without it the script stops.
set -euo pipefail

usage() {
    sed -n '2,20p' "$0" >&2
    exit 2
}

record() {
    local bin dir
    bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
    dir="$2"
    local root
    root="$(pwd)"
    local observed="${OBSERVED:-$root/../shared/data/observed.csv}"
    if [[ ! -f "$observed" ]]; then
        echo "no observations file at $observed (set OBSERVED=path)" >&2
        exit 2
    fi
    observed="$(cd "$(dirname "$observed")" && pwd)/$(basename "$observed")"
    rm -rf "$dir"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    local scenarios=()
    for file in "$root"/scenarios/*.toml; do
        scenarios+=("$(basename "$file" .toml)")
    done

    # Each step: a name, then the command's arguments. Runs in $dir/work; stdout to
    # $dir/stdout/<name>, exit code to $dir/codes.
    mkdir -p "$dir/work" "$dir/stdout"
    step() {
        local name="$1"
        shift
        local code=0
        (cd "$dir/work" && "$bin" "$@" >"$dir/stdout/$name" 2>"$dir/stderr-$name") || code=$?
        echo "$name $code" >>"$dir/codes"
    }

    local s short
    for s in "${scenarios[@]}"; do
        short="$root/scenarios/$s.toml"
        # run: charts and every replicate
        step "run-$s" run "$short" -n 3 --seed 7 --per-replicate --out "runs" -q
        step "run-nocharts-$s" run "$short" -n 40 --threads 2 --out "runs-nocharts" --no-charts -q
        # shards and merge
        step "shard0-$s" run "$short" -n 40 --shard 0/2 --per-replicate --out "shards/0" -q
        step "shard1-$s" run "$short" -n 40 --shard 1/2 --per-replicate --out "shards/1" -q
        step "merge-$s" merge "shards/0/$s" "shards/1/$s" --out merged -q
        # compare against the baseline, scenarios run now
        if [[ "$s" != baseline ]]; then
            step "compare-$s" compare "$root/scenarios/baseline.toml" "$short" -n 4 --bootstrap 200 --out compare -q
        fi
        # sweep on one parameter every scenario has
        step "sweep-$s" sweep "$short" -n 2 --set model.alignment_inertia=0.05,0.1 --out sweep -q
        # backtest on the real observations (most scenarios start after they end: all skipped)
        step "backtest-$s" backtest "$short" --observed "$observed" -n 3 --no-parameter-sets --out "backtest/$s" -q
    done
    # compare: folders of earlier runs (normal approximation, replicates.csv pairing),
    # three inputs, chosen metrics and dates
    step "compare-folders" compare runs/baseline runs/us_minerals_push runs/eu_global_gateway --bootstrap 200 --out compare-folders -q
    step "compare-three" compare "$root/scenarios/baseline.toml" "$root/scenarios/afghanistan_joins.toml" \
        "$root/scenarios/china_bri_surge.toml" -n 3 --metrics alignment,route_cargo_mt.MIDDLE --at 2030Q4,2035Q4 \
        --bootstrap 100 --top 3 --out compare-three -q
    step "compare-nocharts" compare "$root/scenarios/baseline.toml" "$root/scenarios/russia_weakened.toml" -n 3 \
        --no-charts --bootstrap 100 --out compare-nocharts -q
    # sweep: the [sweep] table, a zip, a design file
    step "sweep-table" sweep "$root/scenarios/baseline.toml" -n 2 --out sweep-table -q
    step "sweep-zip" sweep "$root/scenarios/baseline.toml" -n 2 --combine zip \
        --set patrons.USA.investment_budget_usd_bn=0.5,1,2 --set model.alignment_inertia=0.04..0.12:3 \
        --metrics alignment,hedging_index --at 2027Q4 --out sweep-zip -q
    printf 'model.alignment_inertia,patrons.CHN.investment_budget_usd_bn\n0.05,10\n0.1,20\n' >"$dir/work/design.csv"
    step "sweep-design" sweep "$root/scenarios/baseline.toml" -n 2 --design design.csv --out sweep-design -q
    # sensitivity on the baseline's table, each method
    step "sensitivity-morris" sensitivity "$root/scenarios/baseline.toml" -n 2 --method morris --trajectories 2 \
        --bootstrap 100 --out sens-morris -q
    step "sensitivity-sobol" sensitivity "$root/scenarios/baseline.toml" -n 2 --method sobol --samples 4 \
        --bootstrap 100 --outputs alignment:C5:USA,hedging_index --out sens-sobol -q
    step "sensitivity-both" sensitivity "$root/scenarios/baseline.toml" -n 2 --samples 2 --trajectories 2 \
        --bootstrap 100 --at 2030Q4 --out sens-both -q
    # backtest with the scenario's parameter sets, and held out years
    step "backtest-sets" backtest "$root/scenarios/backcast_2015.toml" --observed "$observed" -n 20 --out backtest-sets -q
    step "backtest-through" backtest "$root/scenarios/backcast_2015.toml" --observed "$observed" -n 5 \
        --through 2018 --no-charts --out backtest-through -q
    # calibrate, small, on one and two threads, then a backtest with its sets
    step "calibrate" calibrate "$root/scenarios/backcast_2015.toml" --observed "$observed" -n 2 --samples 4 \
        --refine 4 --keep 2 --out calibrate -q
    step "calibrate-threads" calibrate "$root/scenarios/backcast_2015.toml" --observed "$observed" -n 2 --samples 4 \
        --refine 4 --keep 2 --threads 1 --through 2018 --out calibrate-1 -q
    step "backtest-calibrated" backtest "$root/scenarios/backcast_2015.toml" --observed "$observed" -n 4 \
        --parameter-sets calibrate/parameter_sets.csv --no-charts --out backtest-calibrated -q
    # refusals: their exit codes
    step "bad-metric" compare "$root/scenarios/baseline.toml" "$root/scenarios/baseline.toml" --metrics nope -q
    step "bad-at" sweep "$root/scenarios/baseline.toml" --at 2099Q1 -q
    step "bad-set" sweep "$root/scenarios/baseline.toml" --set model.alignment_inertia=-1 -n 2 -q --out bad
    step "too-large" run "$root/scenarios/baseline.toml" -n 100000 --max-memory-mb 1 -q --out bad
    step "bad-shard" run "$root/scenarios/baseline.toml" -n 10 --shard 5/2 -q --out bad
    step "merge-incomplete" merge shards/0/baseline --out bad -q
    step "check-all" check "$root"/scenarios/*.toml
    rm -f "$dir"/stderr-*
    echo "recorded $(wc -l <"$dir/codes") commands in $dir"
}

compare() {
    local a="$1" b="$2"
    local status=0
    diff -r -q --exclude=manifest.json --exclude=shard.json "$a" "$b" || status=1
    if [[ $status -eq 0 ]]; then
        local files
        files="$(find "$a" -type f ! -name manifest.json ! -name shard.json | wc -l)"
        echo "same bytes: $files files (manifests and shard.json excepted)"
    fi
    return $status
}

case "${1:-}" in
    record) [[ $# -eq 3 ]] || usage; record "$2" "$3" ;;
    compare) [[ $# -eq 3 ]] || usage; compare "$2" "$3" ;;
    *) usage ;;
esac
