#!/usr/bin/env python3
"""Writes the "core" variant of a scenario: the same file without the minerals, routes,
freight, sweep and sensitivity sections and the patrons' processing tables, so that
greatgame runs only the state-level model the Python reference implements.

Usage: python3 make_core_scenario.py SCENARIO.toml OUT.toml
"""

import sys

DROPPED = ("[[commodities]]", "[[deposits]]", "[[routes]]", "[freight", "[minerals",
           "[sweep", "[[sweep", "[sensitivity", "[[sensitivity")
# The patrons' keys that name commodities or firms: without commodities they are refused.
PATRON_MINERAL_KEYS = ("processing =", "minerals_priorities =", "firms =")


def main():
    source, target = sys.argv[1], sys.argv[2]
    out, skipping = [], False
    for line in open(source, encoding="utf-8").read().split("\n"):
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped.startswith(DROPPED)
        if skipping or stripped.startswith(PATRON_MINERAL_KEYS):
            continue
        if stripped.startswith("name = ") and not out_has_table(out):
            line = 'name = "core"'
        out.append(line)
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def out_has_table(lines):
    return any(l.strip().startswith("[") for l in lines)


if __name__ == "__main__":
    main()
