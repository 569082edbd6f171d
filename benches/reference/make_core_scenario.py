#!/usr/bin/env python3
"""Writes the "core" variant of a scenario: the same file without the minerals, routes,
freight, sweep and sensitivity sections and the patrons' processing tables, so that
greatgame runs only the state-level model the Python reference implements.

The scenario's parameter sets (`[calibration] parameter_sets`, a path relative to the
scenario file) are kept, with the path made absolute so that the core file can be
written anywhere: greatgame runs the core variant over the same sets as the scenario,
and the reference reads them from greatgame's manifest.

Usage: python3 make_core_scenario.py SCENARIO.toml OUT.toml
"""

import os
import re
import sys

DROPPED = ("[[commodities]]", "[[deposits]]", "[[routes]]", "[freight", "[minerals",
           "[sweep", "[[sweep", "[sensitivity", "[[sensitivity")
# The patrons' keys that name commodities or firms: without commodities they are refused.
PATRON_MINERAL_KEYS = ("processing =", "minerals_priorities =", "firms =")
SETS = re.compile(r'^(\s*parameter_sets\s*=\s*)"([^"]*)"(.*)$')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    source, target = sys.argv[1], sys.argv[2]
    folder = os.path.dirname(os.path.abspath(source))
    out, skipping, table = [], False, ""
    for number, line in enumerate(open(source, encoding="utf-8").read().split("\n"), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped.startswith(DROPPED)
            table = stripped
        if skipping or stripped.startswith(PATRON_MINERAL_KEYS):
            continue
        if stripped.startswith("extends") and not table:
            # The file it extends would bring the minerals and routes back.
            sys.exit(f"{source}:{number}: the scenario extends another file; make the core "
                     "variant of a self-contained scenario (scenarios/baseline.toml)")
        if stripped.startswith("name = ") and not table:
            line = 'name = "core"'
        sets = SETS.match(line)
        if sets and table == "[calibration]":
            path = os.path.join(folder, sets.group(2))
            line = f'{sets.group(1)}"{os.path.abspath(path)}"{sets.group(3)}'
        out.append(line)
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
