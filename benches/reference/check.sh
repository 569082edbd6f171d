#!/usr/bin/env bash
# Checks that the Python reference still implements greatgame's core model: runs both on
# the core baseline (without and with the baseline's parameter sets), on a variant that
# switches on the rules the baseline leaves idle, and on a quiet version of it (no
# decision noise, no random events, near-deterministic delivery) where a rule that
# differs shows far beyond the noise; compares each pair with compare.py. Exits non-zero
# if any pair disagrees. Needs python3 with numpy; under a minute on two cores once built.
#
#   bash benches/reference/check.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cargo build --release --quiet
gg="${CARGO_TARGET_DIR:-$repo/target}/release/greatgame"
ref="$repo/benches/reference"

python3 "$ref/make_core_scenario.py" scenarios/baseline.toml "$work/core.toml"
cp "$ref/core_variant.toml" "$ref/core_quiet.toml" "$work/"
cd "$work"
status=0
# name, scenario, replicates, greatgame's parameter-set option
while read -r name file n sets; do
    echo "== $name: $file, $n replicates${sets:+, $sets}"
    scenario="$(basename "$file" .toml)"
    # shellcheck disable=SC2086  # $sets is empty or one option
    "$gg" run "$file" -n "$n" $sets --no-charts --quiet --out "gg-$name"
    python3 "$ref/greatgame_ref.py" "gg-$name/$scenario/manifest.json" --out "py-$name"
    python3 "$ref/compare.py" "gg-$name/$scenario" "py-$name" --replicates "$n" --show 5 || status=1
done <<'RUNS'
core core.toml 200 --no-parameter-sets
core-sets core.toml 200
variant core_variant.toml 200 --no-parameter-sets
quiet core_quiet.toml 50 --no-parameter-sets
RUNS
exit $status
