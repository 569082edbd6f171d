#!/usr/bin/env python3
"""A plain, single-threaded Python implementation of greatgame's state-level core model.

A benchmark artefact, not a test: it implements the rules of greatgame's core model
(docs/MODEL.md: the order of a quarter of section 3, the steady start of section 5, and
sections 7.1-7.9 and 7.12: events, money-metric offers and host decisions with decision
noise, pledge pipelines with binomial delivery, implementation and absorptive capacity,
credibility, growth, stocks and the background flows that keep them steady, trade with
re-exports and secondary-sanction risk, remittances, GDP moved by external income,
leverage, alignment targets from the value of ties, patron adaptation and the
finite-state check), records the 34 base metrics of section 8 per host, the C5 row and
partner every quarter, keeps every replicate's values, and computes the mean, standard
deviation and type 7 quantiles of every cell and the mean decision terms at the end,
writing summary.csv and decisions.csv with greatgame's rows. It is written the way an
analyst would write an agent-based model in Python: agents' state in lists and dicts,
one loop per agent and quarter, numpy for the random draws and the final statistics.

The minerals layer (deposits, firms, processing) and the freight routes are not
implemented: the comparison runs the "core" variant of a scenario
(make_core_scenario.py), where they are idle in greatgame too.

What differs from greatgame (see README.md beside this file): the random generator
(numpy's PCG64 seeded with [seed, replicate], not ChaCha8), so replicates differ draw
for draw and the two programs agree in distribution, not number for number
(compare.py checks that); the output has no charts, report, manifest or variance table.

Usage:
    python3 greatgame_ref.py MANIFEST_JSON [--replicates N] [--seed S] [--out DIR]
                             [--no-parameter-sets]

MANIFEST_JSON is the manifest.json of a greatgame run: its resolved_scenario holds every
parameter after defaults, and its parameter_set_values the calibrated parameter sets the
run used (replicate i runs set i mod K, as in greatgame); --no-parameter-sets ignores
them. Requires numpy.
"""

import argparse
import copy
import csv
import json
import math
import os
import sys
import time
from collections import deque

import numpy as np

# Levers events may change, with their valid ranges (src/model/quantities.rs).
HOST_LEVERS = [
    ("trend_growth_pct", -50.0, 50.0), ("absorptive_capacity", 0.0, 1.0),
    ("threat_level", 0.0, 1.0), ("security_openness", 0.0, 1.0),
    ("concentration_aversion", 0.0, 100.0), ("sovereignty_sensitivity", 0.0, 100.0),
    ("remittances_pct_gdp", 0.0, 100.0), ("debt_tolerance_pct_gdp", 1.0, 1000.0),
]
PATRON_LEVERS = [
    ("investment_budget_usd_bn", 0.0, 1e6), ("security_budget_usd_bn", 0.0, 1e6),
    ("trade_offer", 0.0, 1.0), ("conditionality", 0.0, 1.0), ("assertiveness", 0.0, 1.0),
    ("goodwill", -100.0, 100.0), ("economy_growth_pct", -50.0, 50.0), ("sanctions", 0.0, 1.0),
    ("loan_share", 0.0, 1.0), ("implementation_capacity", 0.0, 1.0),
    ("secondary_sanctions", 0.0, 1.0), ("minerals_budget_usd_bn", 0.0, 1e6),
    ("mapping_budget_usd_bn", 0.0, 1e6), ("private_mobilisation", 0.0, 100.0),
    ("processing_investment_usd_bn", 0.0, 1e6),
]
TERMS = ["economic", "security", "concentration", "sovereignty", "displeasure", "goodwill",
         "noise", "utility", "acceptance"]
# name, per partner, C5 rule: greatgame's base metrics in output order (src/metrics.rs).
METRICS = [
    ("alignment", True, "mean"), ("hedging_index", False, "mean"),
    ("trade_turnover_usd_bn", True, "sum"), ("trade_share", True, "special"),
    ("trade_total_usd_bn", False, "sum"), ("exports_usd_bn", True, "sum"),
    ("imports_usd_bn", True, "sum"), ("exports_total_usd_bn", False, "sum"),
    ("imports_total_usd_bn", False, "sum"), ("trade_concentration_hhi", False, "special"),
    ("fdi_stock_usd_bn", True, "sum"), ("fdi_inflow_usd_bn", True, "sum"),
    ("fdi_inflow_total_usd_bn", False, "sum"), ("pledged_usd_bn", True, "sum"),
    ("disbursed_usd_bn", True, "sum"), ("pledged_cumulative_usd_bn", True, "sum"),
    ("disbursed_cumulative_usd_bn", True, "sum"), ("security_dependence", True, "mean"),
    ("leverage", True, "mean"), ("acceptance", True, "mean"), ("credibility", True, "special"),
    ("absorptive_capacity", False, "mean"), ("debt_to_patron_pct_gdp", True, "special"),
    ("gdp_usd_bn", False, "sum"), ("govt_debt_pct_gdp", False, "special"),
    ("conversion_ratio", True, "special"), ("reexport_usd_bn", True, "sum"),
    ("secondary_sanction_risk", True, "mean"), ("remittances_usd_bn", False, "sum"),
    ("remittances_pct_gdp", False, "special"), ("mining_investment_cumulative_usd_bn", True, "sum"),
    ("deposits_mapped", False, "sum"), ("deposits_producing", False, "sum"),
    ("minerals_to_patron_share", True, "special"),
]
M = {name: k for k, (name, _, _) in enumerate(METRICS)}
# The steady start's fixed point (src/model/engine/start.rs).
MAX_ROUNDS = 200
TOLERANCE = 1e-12
# Simpson's rule over the standard normal on +-6 sd, 96 intervals: (node, weight).
SIMPSON = [(-6.0 + 12.0 / 96 * k,
            (1.0 if k in (0, 96) else 4.0 if k % 2 == 1 else 2.0) * math.exp(-0.5 * (-6.0 + 12.0 / 96 * k) ** 2))
           for k in range(97)]
SIMPSON_TOTAL = sum(weight for _, weight in SIMPSON)


def quarter_index(text):
    year, q = text.split("Q")
    return int(year) * 4 + int(q) - 1


def quarter_label(index):
    return f"{index // 4}Q{index % 4 + 1}"


def ratio(a, b):
    return a / b if b > 0 else 0.0


def logistic(x):
    if x < -700.0:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def path_rates(values):
    """Quarterly growth from a path of mid-year levels: {year: rate from year-1 to year}."""
    years = sorted((int(y), v) for y, v in values.items())
    return {y1: (v1 / v0) ** 0.25 - 1.0
            for (y0, v0), (y1, v1) in zip(years, years[1:]) if v0 > 0 and v1 > 0}


def path_growth(rates, quarter):
    """The growth a path sets in a quarter: the first half of year y grows at the rate from
    y - 1 to y, the second half at the rate from y to y + 1."""
    if not rates:
        return None
    year = quarter // 4 + (1 if quarter % 4 + 1 >= 3 else 0)
    return rates.get(year)


def set_key(tree, key, value):
    """Lays a parameter set's value over the resolved scenario (`model.x`, `hosts.KAZ.y`)."""
    parts = key.split(".")
    node = tree
    for part in parts[:-1]:
        if isinstance(node, list):
            node = next(item for item in node if item.get("id") == part)
        else:
            node = node[part]
    node[parts[-1]] = value


class Scenario:
    """The resolved scenario of a greatgame manifest, in the form the model reads."""

    def __init__(self, resolved, overrides=()):
        resolved = copy.deepcopy(resolved)
        for key, value in overrides:
            set_key(resolved, key, value)
        m = resolved["model"]
        self.params = dict(m)
        self.params["fdi_dep"] = m["fdi_depreciation_pct_per_year"] / 400.0
        self.params["debt_amort"] = m["debt_amortization_pct_per_year"] / 400.0
        self.params["other_growth"] = m["other_partners_growth_pct"] / 400.0
        self.params["world_growth"] = m["world_growth_pct"] / 400.0
        self.params["remittance_trend"] = m["remittance_trend_pct"] / 400.0
        self.start = quarter_index(resolved["time"]["start"])
        self.horizon = resolved["time"]["horizon_quarters"]
        self.patron_ids = [p["id"] for p in resolved["patrons"]]
        self.host_ids = [h["id"] for h in resolved["hosts"]]
        self.np = len(self.patron_ids)
        self.nh = len(self.host_ids)
        self.hosts = []
        for h in resolved["hosts"]:
            gdp = max(h["gdp_usd_bn"], 1e-3)
            ties, given = [], []
            for pid in self.patron_ids:
                t = h["ties"].get(pid, {})
                ties.append({
                    "trade": t.get("trade_usd_bn", 0.0),
                    "export_share": (t["export_share"] if t.get("export_share") is not None
                                     else h["export_share"]),
                    "fdi": t.get("fdi_stock_usd_bn", 0.0),
                    "arms_share": t.get("arms_share", 0.0),
                    "remittance_share": t.get("remittance_share", 0.0),
                    "debt_share": t.get("debt_share", 0.0),
                })
                given.append(t.get("alignment"))
            initial_alignment = None
            if any(a is not None for a in given):
                values = [a or 0.0 for a in given]
                initial_alignment = [a / sum(values) for a in values]
            self.hosts.append({
                "id": h["id"], "gdp": gdp,
                "defence": h["defence_budget_usd_bn"] if h["defence_budget_usd_bn"] > 0 else 0.01 * gdp,
                "debt_pct": h["govt_debt_pct_gdp"], "other_trade": h["other_trade_usd_bn"],
                "other_export_share": h["export_share"],
                "other_fdi_inflow": h["other_fdi_inflow_usd_bn"],
                "other_security_share": h["other_security_share"],
                "reexport_openness": h["reexport_openness"],
                "levers": {name: h[name] for name, _, _ in HOST_LEVERS},
                "ties": ties, "initial_alignment": initial_alignment,
                "path": path_rates(h.get("gdp_usd_bn_path") or {}),
            })
        self.patrons = []
        for p in resolved["patrons"]:
            levers = {name: p[name] for name, _, _ in PATRON_LEVERS if name != "implementation_capacity"}
            # Until the start derives it (docs/MODEL.md section 5), the credibility stands in.
            given_capacity = p.get("implementation_capacity")
            levers["implementation_capacity"] = (given_capacity if given_capacity is not None
                                                 else p["credibility"])
            if p["allocation"]:
                allocation = [p["allocation"].get(hid, 0.0) for hid in self.host_ids]
            else:
                allocation = [h["gdp"] for h in self.hosts]
            total = sum(allocation)
            allocation = ([a / total for a in allocation] if total > 0
                          else [1.0 / self.nh] * self.nh)
            self.patrons.append({
                "id": p["id"], "credibility": p["credibility"],
                "credibility_learning": p["credibility_learning"],
                "lag": p["pledge_lag_quarters"], "implementation_capacity": given_capacity,
                "levers": levers, "strategy": p["strategy"], "allocation": allocation,
                "sanctioned_import_demand": p["sanctioned_import_demand_usd_bn"],
                "path": path_rates(p.get("economy_usd_bn_path") or {}),
            })
        # Events in name order, so the file's order changes neither draws nor composition.
        self.events = []
        for e in sorted(resolved["events"], key=lambda e: e["name"]):
            effects = []
            for f in e["effects"]:
                actor = f["actor"]
                if actor == "all_hosts":
                    target = ("host", None)
                elif actor == "all_patrons":
                    target = ("patron", None)
                elif actor in self.host_ids:
                    target = ("host", self.host_ids.index(actor))
                elif actor in self.patron_ids:
                    target = ("patron", self.patron_ids.index(actor))
                else:
                    raise SystemExit(f"event {e['name']!r}: actor {actor!r} is not a host or a "
                                     "patron (routes are not implemented: run the core variant)")
                effects.append((target, f["quantity"], f["op"], f["value"]))
            self.events.append({
                "name": e["name"],
                "at": quarter_index(e["at"]) if e.get("at") else None,
                "hazard": e.get("hazard_per_quarter"),
                "from": quarter_index(e["from"]) if e.get("from") else None,
                "until": quarter_index(e["until"]) if e.get("until") else None,
                "duration": e.get("duration_quarters"),
                "effects": effects,
            })
        # Metric layout: per metric, rows (hosts then C5) x partners.
        self.offsets = []
        n = 0
        for _, per_partner, _ in METRICS:
            self.offsets.append(n)
            n += (self.nh + 1) * (self.np if per_partner else 1)
        self.n_cells = n

    def index(self, metric, row, partner=None):
        if partner is None:
            return self.offsets[metric] + row
        return self.offsets[metric] + row * self.np + partner


class Simulation:
    """One replicate's state. Host x patron lists are row-major by host: h * np + p."""

    def __init__(self, s):
        """The state at the start: the scenario's data, set on a steady state."""
        self.s = s
        nh, np_ = s.nh, s.np
        hp = nh * np_
        z = lambda: [0.0] * hp
        self.step_no = 0
        self.running = [None] * len(s.events)  # (start, end or None) while running
        self.fired = [False] * len(s.events)
        self.base_patron_levers = [dict(p["levers"]) for p in s.patrons]
        self.host_levers = [dict(h["levers"]) for h in s.hosts]
        self.patron_levers = [dict(p["levers"]) for p in s.patrons]
        # Hosts
        self.gdp = [h["gdp"] for h in s.hosts]
        self.underlying = [h["gdp"] for h in s.hosts]
        self.initial_income_ratio = [0.0] * nh
        self.initial_delivery_ratio = [0.0] * nh
        self.initial_other_base = [h["other_trade"] for h in s.hosts]
        self.other_gravity = [1.0] * nh
        self.other_trade = [h["other_trade"] for h in s.hosts]
        self.other_trade_with_flows = [h["other_trade"] for h in s.hosts]
        self.other_exports = [0.0] * nh
        self.other_security = [0.0] * nh
        self.other_procurement = [0.0] * nh
        self.other_debt = [0.0] * nh
        self.remittances = [0.0] * nh
        self.experience = [0.0] * nh
        self.initial_experience = [0.0] * nh
        self.absorptive = [h["levers"]["absorptive_capacity"] for h in s.hosts]
        # Host x patron
        self.alignment = [1.0 / max(np_, 1)] * hp
        self.previous_alignment, self.initial_alignment = z(), z()
        self.initial_trade_base, self.gravity, self.initial_trade_factor = z(), [1.0] * hp, z()
        self.trade, self.exports, self.trade_access = z(), z(), z()
        self.fdi, self.fdi_inflow, self.security, self.procurement = z(), z(), z(), z()
        self.aid_taken, self.debt_to_patron = z(), z()
        self.background_fdi, self.background_lending = z(), z()
        self.remittances_from, self.leverage = z(), z()
        self.decisions = [[0.0] * len(TERMS) for _ in range(hp)]
        self.pledged, self.disbursed, self.pledged_cum, self.disbursed_cum = z(), z(), z(), z()
        self.pledged_due_cum, self.reexport, self.sanction_risk = z(), z(), z()
        self.accepted_value = z()
        self.acceptance = [0.5] * hp
        # Patrons
        self.economy = [1.0] * np_
        self.patron_growth = [0.0] * np_
        self.world_economy = 1.0
        self.credibility = [p["credibility"] for p in s.patrons]
        self.record_due = [0.0] * np_
        self.record_delivered = [0.0] * np_
        self.allocation = [p["allocation"][:] for p in s.patrons]  # [patron][host]
        self.propensity = [p["allocation"][:] for p in s.patrons]
        self.pipelines = [deque() for _ in range(np_)]  # (host, due step, amount)
        self.set_data()
        self.settle()
        self.set_flows()

    def clone(self):
        """A fresh replicate from the start state (the scenario is shared, not copied)."""
        return copy.deepcopy(self, {id(self.s): self.s})

    # -- the start (docs/MODEL.md section 5)
    def set_data(self):
        s = self.s
        np_ = s.np
        for h, host in enumerate(s.hosts):
            debt = host["debt_pct"] / 100.0 * host["gdp"]
            patron_share = sum(t["debt_share"] for t in host["ties"])
            self.other_debt[h] = max(0.0, 1.0 - patron_share) * debt
            for p, tie in enumerate(host["ties"]):
                i = h * np_ + p
                self.trade[i] = tie["trade"]
                self.fdi[i] = tie["fdi"]
                self.debt_to_patron[i] = tie["debt_share"] * debt
        self.update_remittances()
        # The data's trade already holds the re-exports of the start's sanctions: the
        # gravity base is what is left, found by substitution.
        data = self.trade[:]
        for _ in range(50):
            self.update_reexports()
            for i in range(len(data)):
                self.trade[i] = max(0.0, data[i] - self.reexport[i])
        self.initial_trade_base = self.trade[:]
        for h, host in enumerate(s.hosts):
            reexports_in = sum(self.reexport[h * np_:(h + 1) * np_])
            self.initial_other_base[h] = max(0.0, host["other_trade"] - reexports_in)

    def settle(self):
        """The fixed point of expected acceptance, market access, security stocks, leverage
        and (unless the file gives it) alignment."""
        s, par = self.s, self.s.params
        np_, nh = s.np, s.nh
        for h, host in enumerate(s.hosts):
            if host["initial_alignment"] is not None:
                self.alignment[h * np_:(h + 1) * np_] = host["initial_alignment"]
        for _ in range(MAX_ROUNDS):
            self.set_implementation_capacity()
            for i in range(nh * np_):
                h, p = divmod(i, np_)
                offer = self.value_offer(h, p)
                accepted = self.acceptance[i]
                self.accepted_value[i] = accepted * offer["size"]
                self.aid_taken[i] = accepted * offer["aid"]
                self.trade_access[i] = (accepted * self.patron_levers[p]["trade_offer"]
                                        / par["trade_access_decay"]
                                        if par["trade_access_decay"] > 0 else 0.0)
            self.set_security_stocks()
            self.update_trade_at_start()
            self.update_leverage()
            for h, host in enumerate(s.hosts):
                if host["initial_alignment"] is None:
                    self.alignment[h * np_:(h + 1) * np_] = self.alignment_target(h)
            # Damped, so that acceptance and ties that push each other settle.
            change = 0.0
            for i in range(nh * np_):
                h, p = divmod(i, np_)
                expected = self.expected_acceptance(self.value_offer(h, p)["value_per_usd"])
                change = max(change, abs(expected - self.acceptance[i]))
                self.acceptance[i] = 0.5 * (self.acceptance[i] + expected)
            if change < TOLERANCE:
                break
        self.update_trade_at_start()
        self.previous_alignment = self.alignment[:]

    def update_trade_at_start(self):
        self.initial_alignment = self.alignment[:]
        for i in range(len(self.trade)):
            self.initial_trade_factor[i] = self.trade_factor(i)
        self.update_trade()

    def set_security_stocks(self):
        """Arms shares are each supplier's share of what renews two years of the defence
        budget; a patron whose expected aid renews more holds the stock its aid renews."""
        s = self.s
        np_ = s.np
        decay = s.params["security_decay"]
        for h, host in enumerate(s.hosts):
            growth = self.start_growth(h)
            renewal = (decay + growth) / (1.0 + growth)
            stock = 2.0 * host["defence"]
            inflow = renewal * stock
            for p, tie in enumerate(host["ties"]):
                i = h * np_ + p
                aid = self.aid_taken[i] / (1.0 + self.patron_start_growth(p))
                by_aid = aid / renewal if renewal > 0 else 0.0
                self.security[i] = max(tie["arms_share"] * stock, by_aid)
                self.procurement[i] = max(0.0, tie["arms_share"] * inflow - aid)
            self.other_security[h] = host["other_security_share"] * stock
            self.other_procurement[h] = host["other_security_share"] * inflow

    def set_implementation_capacity(self):
        """The file's, or the value that makes the starting credibility the delivered share."""
        s = self.s
        for p, patron in enumerate(s.patrons):
            capacity = patron["implementation_capacity"]
            if capacity is None:
                pledged = weighted = 0.0
                for h in range(s.nh):
                    pledge = self.expected_pledge(h, p)
                    pledged += pledge
                    weighted += pledge * self.absorptive[h]
                capacity = (min(1.0, patron["credibility"] * pledged / weighted) if weighted > 0
                            else patron["credibility"])
            self.base_patron_levers[p]["implementation_capacity"] = capacity
            self.patron_levers[p]["implementation_capacity"] = capacity

    def patron_start_growth(self, p):
        patron = self.s.patrons[p]
        path = path_growth(patron["path"], self.s.start)
        return path if path is not None else patron["levers"]["economy_growth_pct"] / 400.0

    def start_growth(self, h):
        host = self.s.hosts[h]
        path = path_growth(host["path"], self.s.start)
        return path if path is not None else host["levers"]["trend_growth_pct"] / 400.0

    def start_pair_growth(self, h, p):
        par = self.s.params
        return ((1.0 + self.start_growth(h)) ** par["trade_gdp_elasticity"]
                * (1.0 + self.patron_start_growth(p)) / (1.0 + par["world_growth"]) - 1.0)

    def expected_pledge(self, h, p):
        return self.acceptance[h * self.s.np + p] * self.value_offer(h, p)["investment"]

    def expected_delivery(self, h, p):
        lag = self.s.patrons[p]["lag"]
        chance = min(1.0, self.patron_levers[p]["implementation_capacity"] * self.absorptive[h])
        return (self.expected_pledge(h, p) * chance
                / (1.0 + self.patron_start_growth(p)) ** (lag + 1))

    def set_flows(self):
        """Background FDI and lending, experience, the pipelines of the quarters before the
        start, the delivery records and the start's ratio of external income to GDP."""
        s, par = self.s, self.s.params
        np_ = s.np
        for h in range(s.nh):
            host_growth = self.start_growth(h)
            delivered_total = 0.0
            for p in range(np_):
                i = h * np_ + p
                loan = self.patron_levers[p]["loan_share"]
                delivered = self.expected_delivery(h, p)
                delivered_total += delivered
                growth = self.start_pair_growth(h, p)
                self.background_fdi[i] = ((par["fdi_dep"] + growth) / (1.0 + growth) * self.fdi[i]
                                          - (1.0 - loan) * delivered)
                self.background_lending[i] = ((par["debt_amort"] + host_growth) / (1.0 + host_growth)
                                              * self.debt_to_patron[i] - loan * delivered)
                pledge = self.expected_pledge(h, p)
                if pledge > 0:
                    lag = s.patrons[p]["lag"]
                    budget_growth = 1.0 + self.patron_start_growth(p)
                    for due in range(1, lag + 1):
                        self.pipelines[p].append((h, due, pledge / budget_growth ** (lag + 1 - due)))
            per_gdp = delivered_total * (1.0 + host_growth) / self.underlying[h]
            self.initial_delivery_ratio[h] = per_gdp
            if par["experience_decay"] > 0:
                self.experience[h] = 100.0 * per_gdp / par["experience_decay"]
            income = self.remittances[h] + self.total_exports(h)
            self.initial_income_ratio[h] = income / self.gdp[h]
        self.initial_experience = self.experience[:]
        for p, patron in enumerate(s.patrons):
            due = (sum(self.expected_pledge(h, p) for h in range(s.nh))
                   / (1.0 + self.patron_start_growth(p)) ** (patron["lag"] + 1))
            self.record_due[p] = due
            self.record_delivered[p] = patron["credibility"] * due
        for p in range(np_):
            self.pipelines[p] = deque(sorted(self.pipelines[p], key=lambda x: (x[1], x[0])))

    # -- totals
    def total_trade(self, h):
        np_ = self.s.np
        return sum(self.trade[h * np_:(h + 1) * np_]) + self.other_trade_with_flows[h]

    def total_exports(self, h):
        np_ = self.s.np
        return sum(self.exports[h * np_:(h + 1) * np_]) + self.other_exports[h]

    def total_security(self, h):
        np_ = self.s.np
        return sum(self.security[h * np_:(h + 1) * np_]) + self.other_security[h]

    def total_debt(self, h):
        np_ = self.s.np
        return sum(self.debt_to_patron[h * np_:(h + 1) * np_]) + self.other_debt[h]

    def debt_pct_gdp(self, h):
        return 100.0 * self.total_debt(h) / self.gdp[h]

    # -- the quarter (docs/MODEL.md section 3)
    def step(self, rng):
        s = self.s
        quarter = s.start + self.step_no
        self.step_no += 1
        self.advance_events(quarter, rng)
        self.apply_events()
        self.update_absorptive_capacity()
        self.decide(rng)
        self.disburse(rng)
        # (minerals and routes: not in the core model)
        self.grow_economy(quarter)
        self.update_trade()
        self.update_remittances()
        self.update_gdp()
        self.update_leverage()
        self.update_alignment()
        self.adapt_patrons()
        self.check_finite()

    def advance_events(self, quarter, rng):
        """Starts and ends events (section 7.1); hazards draw only when they could start."""
        for e, event in enumerate(self.s.events):
            running = self.running[e]
            if running is not None and running[1] is not None and quarter >= running[1]:
                self.running[e] = None
            if self.running[e] is not None:
                continue
            duration = event["duration"]
            if event["at"] is not None:
                due = not self.fired[e] and quarter >= event["at"]
                relevant = duration is None or quarter < event["at"] + duration
                if due:
                    self.fired[e] = True
                starts, start = due and relevant, event["at"]
            else:
                in_window = ((event["from"] is None or quarter >= event["from"])
                             and (event["until"] is None or quarter <= event["until"]))
                starts = in_window and rng.random() < event["hazard"]
                start = quarter
            if starts:
                self.running[e] = (start, start + duration if duration is not None else None)

    def apply_events(self):
        """The levers in force: the scenario's, then every running set, add and multiply
        effect (events in name order), then each lever clamped to its range."""
        s = self.s
        self.host_levers = [dict(h["levers"]) for h in s.hosts]
        self.patron_levers = [dict(levers) for levers in self.base_patron_levers]
        for op in ("set", "add", "multiply"):
            for e, event in enumerate(s.events):
                if self.running[e] is None:
                    continue
                for (kind, index), quantity, effect_op, value in event["effects"]:
                    if effect_op != op:
                        continue
                    pool = self.host_levers if kind == "host" else self.patron_levers
                    for levers in (pool if index is None else [pool[index]]):
                        if op == "set":
                            levers[quantity] = value
                        elif op == "add":
                            levers[quantity] += value
                        else:
                            levers[quantity] *= value
        for levers in self.host_levers:
            for name, lo, hi in HOST_LEVERS:
                levers[name] = min(hi, max(lo, levers[name]))
        for levers in self.patron_levers:
            for name, lo, hi in PATRON_LEVERS:
                levers[name] = min(hi, max(lo, levers[name]))

    def update_absorptive_capacity(self):
        """kappa = kappa_max - (kappa_max - lever) ((K0 + 1) / (K + 1))^lambda (section 7.3)."""
        par = self.s.params
        top = par["absorptive_max"]
        for h in range(self.s.nh):
            lever = self.host_levers[h]["absorptive_capacity"]
            if lever >= top:
                self.absorptive[h] = lever
            else:
                relative = (self.initial_experience[h] + 1.0) / (self.experience[h] + 1.0)
                value = top - (top - lever) * relative ** par["absorptive_learning"]
                self.absorptive[h] = min(top, max(0.01, value))

    # -- offers and decisions (section 7.2)
    def ties_value(self, h, p):
        """The political value of the host's ties with a patron, weighted USD bn a year."""
        w = self.s.params["attraction_weights"]
        i = h * self.s.np + p
        return (w["trade"] * self.trade[i] + w["fdi"] * self.fdi[i]
                + w["security"] * self.host_levers[h]["security_openness"] * self.security[i]
                + w["remittances"] * self.remittances_from[i]
                + w["offers"] * 4.0 * self.accepted_value[i])

    def value_offer(self, h, p):
        """Patron p's offer to host h this quarter and its money value, before noise."""
        s, par = self.s, self.s.params
        np_ = s.np
        i = h * np_ + p
        hl, pl = self.host_levers[h], self.patron_levers[p]
        share = self.allocation[p][h]
        investment = pl["investment_budget_usd_bn"] * self.economy[p] / 4.0 * share
        aid = pl["security_budget_usd_bn"] * self.economy[p] / 4.0 * share * hl["security_openness"]
        trade_gain = par["trade_access_gain"] * pl["trade_offer"] * self.trade[i] / 4.0
        size = investment + aid + trade_gain
        capacity = self.absorptive[h]
        per_investment = par["economic_weight"] * capacity * self.credibility[p]
        per_trade = par["economic_weight"] * capacity
        per_aid = par["security_weight"] * hl["threat_level"]
        stress = (self.debt_pct_gdp(h) / hl["debt_tolerance_pct_gdp"]) ** 2
        sovereignty_per_investment = -hl["sovereignty_sensitivity"] * (
            pl["conditionality"] + pl["loan_share"] * stress)
        # Concentration: taking the offer adds `offers` weight times its annual value to the
        # ties with p; the Herfindahl index of the ties rises by 2 (s_p - H) times that over
        # their total, and the host pays its aversion (share of GDP) per unit of the index.
        values = [self.ties_value(h, q) for q in range(np_)]
        total = sum(values)
        if total > 0:
            hhi = sum((v / total) ** 2 for v in values)
            concentration = (-hl["concentration_aversion"] * 2.0 * (values[p] / total - hhi)
                             * par["attraction_weights"]["offers"] * self.gdp[h] / total)
        else:
            concentration = 0.0
        rival = sum(self.patron_levers[q]["assertiveness"] * self.leverage[h * np_ + q]
                    for q in range(np_) if q != p)
        displeasure = -par["displeasure_weight"] * rival
        goodwill = pl["goodwill"]
        economic = per_investment * investment + per_trade * trade_gain
        security = per_aid * aid
        sovereignty = sovereignty_per_investment * investment
        common = concentration + displeasure + goodwill
        if size > 0:
            value_per_usd = (economic + security + sovereignty) / size + common
        else:
            value_per_usd = per_investment + sovereignty_per_investment + common
        return {"investment": investment, "aid": aid, "trade_gain": trade_gain, "size": size,
                "economic": economic, "security": security,
                "concentration": concentration * size, "sovereignty": sovereignty,
                "displeasure": displeasure * size, "goodwill": goodwill * size,
                "value_per_usd": value_per_usd}

    def acceptance_at(self, value_per_usd):
        par = self.s.params
        return logistic((value_per_usd - par["acceptance_threshold"]) / par["acceptance_scale"])

    def expected_acceptance(self, value_per_usd):
        """The share taken, integrated over the decision noise by Simpson's rule on +-6 sd."""
        sd = self.s.params["decision_noise_sd"]
        if sd <= 0:
            return self.acceptance_at(value_per_usd)
        total = 0.0
        for z, weight in SIMPSON:
            total += weight * self.acceptance_at(value_per_usd + sd * z)
        return total / SIMPSON_TOTAL

    def decide(self, rng):
        s, par = self.s, self.s.params
        np_ = s.np
        sd = par["decision_noise_sd"]
        # Every host decides on the state at the start of the quarter.
        offers = [self.value_offer(h, p) for h in range(s.nh) for p in range(np_)]
        for i, offer in enumerate(offers):
            h, p = divmod(i, np_)
            draw = rng.normal(0.0, sd)
            acceptance = self.acceptance_at(offer["value_per_usd"] + draw)
            size = offer["size"]
            to_pct = 100.0 / (self.gdp[h] / 4.0)
            noise = draw * size
            utility = (offer["economic"] + offer["security"] + offer["concentration"]
                       + offer["sovereignty"] + offer["displeasure"] + offer["goodwill"] + noise)
            self.acceptance[i] = acceptance
            self.decisions[i] = [offer["economic"] * to_pct, offer["security"] * to_pct,
                                 offer["concentration"] * to_pct, offer["sovereignty"] * to_pct,
                                 offer["displeasure"] * to_pct, offer["goodwill"] * to_pct,
                                 noise * to_pct, utility * to_pct, acceptance]
            pledge = acceptance * offer["investment"]
            self.pledged[i] = pledge
            self.pledged_cum[i] += pledge
            if pledge > 0:
                self.pipelines[p].append((h, self.step_no + s.patrons[p]["lag"], pledge))
            self.aid_taken[i] = acceptance * offer["aid"]
            self.trade_access[i] = (self.trade_access[i] * (1.0 - par["trade_access_decay"])
                                    + acceptance * self.patron_levers[p]["trade_offer"])
            decay = par["offers_decay"]
            self.accepted_value[i] = (1.0 - decay) * self.accepted_value[i] + decay * acceptance * size

    # -- pledges become projects (section 7.3)
    def disburse(self, rng):
        s, par = self.s, self.s.params
        np_ = s.np
        self.disbursed = [0.0] * len(self.disbursed)
        self.fdi_inflow = [0.0] * len(self.fdi_inflow)
        for p in range(np_):
            due_total = delivered = 0.0
            implementation = self.patron_levers[p]["implementation_capacity"]
            loan = self.patron_levers[p]["loan_share"]
            pipeline = self.pipelines[p]
            while pipeline and pipeline[0][1] <= self.step_no:
                h, _, amount = pipeline.popleft()
                chance = min(1.0, max(0.0, implementation * self.absorptive[h]))
                n = max(1.0, math.ceil(amount / par["project_size_usd_bn"]))
                done = float(rng.binomial(int(n), chance))
                paid = amount * done / n
                i = h * np_ + p
                self.pledged_due_cum[i] += amount
                self.disbursed[i] += paid
                self.disbursed_cum[i] += paid
                self.fdi_inflow[i] += (1.0 - loan) * paid
                due_total += amount
                delivered += paid
            # Credibility: the delivered share of an exponentially weighted record.
            learning = s.patrons[p]["credibility_learning"]
            self.record_due[p] = (1.0 - learning) * self.record_due[p] + learning * due_total
            self.record_delivered[p] = (1.0 - learning) * self.record_delivered[p] + learning * delivered
            if self.record_due[p] > 0:
                self.credibility[p] = min(1.0, max(0.0, self.record_delivered[p] / self.record_due[p]))
        for h in range(s.nh):
            delivered = sum(self.disbursed[h * np_:(h + 1) * np_])
            self.experience[h] = ((1.0 - par["experience_decay"]) * self.experience[h]
                                  + 100.0 * delivered / self.underlying[h])

    # -- economy (section 7.4)
    def grow_economy(self, quarter):
        s, par = self.s, self.s.params
        np_ = s.np
        for p, patron in enumerate(s.patrons):
            lever = self.patron_levers[p]["economy_growth_pct"] / 400.0
            path = path_growth(patron["path"], quarter)
            self.patron_growth[p] = (path + lever - patron["levers"]["economy_growth_pct"] / 400.0
                                     if path is not None else lever)
            self.economy[p] *= max(1.0 + self.patron_growth[p], 0.01)
        world = 1.0 + par["world_growth"]
        self.world_economy *= world
        other_partners = (1.0 + par["other_growth"]) / world
        for h, host in enumerate(s.hosts):
            disbursed = sum(self.disbursed[h * np_:(h + 1) * np_])
            trend = self.host_levers[h]["trend_growth_pct"] / 400.0
            path = path_growth(host["path"], quarter)
            underlying = (path + trend - host["levers"]["trend_growth_pct"] / 400.0
                          if path is not None else trend)
            # Projects beyond the start's move growth: the trend holds the start's.
            extra = disbursed / self.underlying[h] - self.initial_delivery_ratio[h]
            factor = max(1.0 + underlying + par["investment_growth_multiplier"] * extra, 0.01)
            self.underlying[h] *= factor
            size = self.underlying[h] / host["gdp"]
            trade_factor = factor ** par["trade_gdp_elasticity"]
            self.other_gravity[h] *= trade_factor * other_partners
            self.other_debt[h] *= factor
            self.other_security[h] = (self.other_security[h] * (1.0 - par["security_decay"])
                                      + self.other_procurement[h] * size)
            for p in range(np_):
                i = h * np_ + p
                self.gravity[i] *= trade_factor * max(1.0 + self.patron_growth[p], 0.01) / world
                # Stocks wear out, then the quarter's flows join them; never below zero.
                self.fdi_inflow[i] += self.background_fdi[i] * self.gravity[i]
                self.fdi[i] = max(0.0, self.fdi[i] * (1.0 - par["fdi_dep"]) + self.fdi_inflow[i])
                lending = self.patron_levers[p]["loan_share"] * self.disbursed[i]
                self.debt_to_patron[i] = max(0.0, self.debt_to_patron[i] * (1.0 - par["debt_amort"])
                                             + lending + self.background_lending[i] * size)
                self.security[i] = (self.security[i] * (1.0 - par["security_decay"])
                                    + self.procurement[i] * size + self.aid_taken[i])

    def update_remittances(self):
        """Remittances follow the economies they come from (section 7.9)."""
        s, par = self.s, self.s.params
        np_ = s.np
        trend = (1.0 + par["remittance_trend"]) ** self.step_no
        for h, host in enumerate(s.hosts):
            base_pct = host["levers"]["remittances_pct_gdp"]
            base = base_pct / 100.0 * host["gdp"]
            shock = self.host_levers[h]["remittances_pct_gdp"] / base_pct if base_pct > 0 else 0.0
            from_patrons = 0.0
            for p, tie in enumerate(host["ties"]):
                amount = (base * shock * trend * tie["remittance_share"]
                          * self.economy[p] ** par["remittance_elasticity"])
                self.remittances_from[h * np_ + p] = amount
                from_patrons += amount
            patrons_share = sum(t["remittance_share"] for t in host["ties"])
            elsewhere = base * shock * max(0.0, 1.0 - patrons_share) * self.underlying[h] / host["gdp"]
            self.remittances[h] = from_patrons + elsewhere

    def update_gdp(self):
        """The underlying economy plus the multiplier times external income above or below
        the start's ratio to GDP; a host with a GDP path has the path's GDP."""
        s = self.s
        multiplier = s.params["external_income_multiplier"]
        for h, host in enumerate(s.hosts):
            underlying = self.underlying[h]
            if host["path"]:
                self.gdp[h] = underlying
            else:
                income = self.remittances[h] + self.total_exports(h)
                gap = income - self.initial_income_ratio[h] * underlying
                self.gdp[h] = max(underlying + multiplier * gap, 0.2 * underlying)

    # -- trade (sections 7.5, 7.6)
    def trade_factor(self, i):
        """Log of the relationship factor: market access, alignment, sanctions (the cost of
        routes is 0 without routes)."""
        par = self.s.params
        p = i % self.s.np
        return (par["trade_access_gain"] * self.trade_access[i]
                + par["trade_alignment_elasticity"] * (self.alignment[i] - self.initial_alignment[i])
                - par["sanctions_trade_elasticity"] * self.patron_levers[p]["sanctions"])

    def update_reexports(self):
        s = self.s
        np_, nh = s.np, s.nh
        self.reexport = [0.0] * len(self.reexport)
        for p, patron in enumerate(s.patrons):
            sanctions = self.patron_levers[p]["sanctions"]
            demand = patron["sanctioned_import_demand"] * self.economy[p]
            if sanctions <= 0 or demand <= 0:
                continue
            enforcement = min(1.0, sum(self.patron_levers[q]["secondary_sanctions"]
                                       for q in range(np_) if q != p))
            pool = s.params["reexport_capture"] * sanctions * demand * (1.0 - enforcement)
            weights = [s.hosts[h]["reexport_openness"] * self.trade[h * np_ + p] for h in range(nh)]
            total = sum(weights)
            if total <= 0:
                continue
            for h in range(nh):
                self.reexport[h * np_ + p] = pool * weights[h] / total

    def update_trade(self):
        s = self.s
        np_, nh = s.np, s.nh
        for i in range(len(self.trade)):
            base = self.initial_trade_base[i] * self.gravity[i]
            self.trade[i] = base * math.exp(self.trade_factor(i) - self.initial_trade_factor[i])
            self.exports[i] = s.hosts[i // np_]["ties"][i % np_]["export_share"] * self.trade[i]
        for h in range(nh):
            self.other_trade[h] = self.initial_other_base[h] * self.other_gravity[h]
        self.update_reexports()
        for h in range(nh):
            reexports_in = 0.0
            for p in range(np_):
                i = h * np_ + p
                # The leg to the sanctioned patron is an export to it, the leg from the
                # suppliers an import from the other partners.
                self.trade[i] += self.reexport[i]
                self.exports[i] += self.reexport[i]
                reexports_in += self.reexport[i]
            self.other_trade_with_flows[h] = self.other_trade[h] + reexports_in
            self.other_exports[h] = s.hosts[h]["other_export_share"] * self.other_trade[h]
        # Secondary-sanction risk grows with the share of trade that is re-export.
        for h in range(nh):
            reexports = sum(self.reexport[h * np_:(h + 1) * np_])
            exposure = min(1.0, ratio(reexports, 0.1 * self.total_trade(h)))
            for q in range(np_):
                self.sanction_risk[h * np_ + q] = self.patron_levers[q]["secondary_sanctions"] * exposure

    # -- leverage and alignment (sections 7.7, 7.8)
    def update_leverage(self):
        s = self.s
        w = s.params["leverage_weights"]
        np_ = s.np
        weight_sum = max(w["trade"] + w["security"] + w["remittances"] + w["debt"] + w["sanctions"], 1e-12)
        for h in range(s.nh):
            tt, ts, td = self.total_trade(h), self.total_security(h), self.total_debt(h)
            remittances = self.remittances[h]
            remittance_weight = min(100.0 * remittances / self.gdp[h] / 20.0, 1.0)
            debt_weight = min(self.debt_pct_gdp(h) / 60.0, 1.0)
            for p in range(np_):
                i = h * np_ + p
                self.leverage[i] = (
                    w["trade"] * min(1.0, ratio(self.trade[i], tt))
                    + w["security"] * ratio(self.security[i], ts)
                    + w["remittances"] * ratio(self.remittances_from[i], remittances) * remittance_weight
                    + w["debt"] * ratio(self.debt_to_patron[i], td) * debt_weight
                    + w["sanctions"] * self.sanction_risk[i]) / weight_sum

    def alignment_target(self, h):
        """Between the ties and balance: (w s_p + c / n) / (w + c), w the ties per USD of GDP."""
        np_ = self.s.np
        values = [self.ties_value(h, p) for p in range(np_)]
        total = sum(values)
        balance = 1.0 / np_
        if total <= 0:
            return [balance] * np_
        per_gdp = total / self.gdp[h]
        aversion = self.host_levers[h]["concentration_aversion"]
        return [(per_gdp * v / total + aversion * balance) / (per_gdp + aversion) for v in values]

    def update_alignment(self):
        s = self.s
        np_ = s.np
        inertia = s.params["alignment_inertia"]
        self.previous_alignment = self.alignment[:]
        for h in range(s.nh):
            target = self.alignment_target(h)
            row = [(1.0 - inertia) * a + inertia * t
                   for a, t in zip(self.alignment[h * np_:(h + 1) * np_], target)]
            total = sum(row)
            self.alignment[h * np_:(h + 1) * np_] = [a / total for a in row]

    # -- patron adaptation (section 7.12)
    def adapt_patrons(self):
        s = self.s
        nh, np_ = s.nh, s.np
        for p, patron in enumerate(s.patrons):
            st = patron["strategy"]
            rule, rate = st["rule"], st["adaptation_rate"]
            if rule == "fixed" or rate == 0:
                continue
            o = st["objectives"]
            returns = []
            for h in range(nh):
                i = h * np_ + p
                # The core has no mineral output, so the minerals objective earns nothing.
                returns.append(self.decisions[i][8] * (
                    o["influence"] * self.alignment[i]
                    + o["security"] * ratio(self.security[i], self.total_security(h))
                    + o["trade"] * ratio(self.trade[i], self.total_trade(h))))
            row = self.allocation[p]
            if rule == "best_response":
                target = returns
            elif rule == "learning":
                prop = self.propensity[p]
                for h in range(nh):
                    prop[h] = (1.0 - rate) * prop[h] + returns[h] * row[h]
                target = prop[:]
            else:  # rival_response
                target = []
                for h in range(nh):
                    gain = sum(max(0.0, self.alignment[h * np_ + q] - self.previous_alignment[h * np_ + q])
                               for q in range(np_) if q != p)
                    target.append(row[h] * (1.0 + 100.0 * gain))
            total = sum(target)
            if total <= 0 or not math.isfinite(total):
                continue
            if rule == "learning":
                self.allocation[p] = [t / total for t in target]
            else:
                self.allocation[p] = [(1.0 - rate) * a + rate * t / total for a, t in zip(row, target)]

    def check_finite(self):
        for name in ("economy", "credibility", "gdp", "underlying", "remittances", "other_trade",
                     "other_debt", "other_security", "absorptive", "alignment", "trade", "fdi",
                     "security", "debt_to_patron"):
            for v in getattr(self, name):
                if not math.isfinite(v):
                    raise FloatingPointError(f"non-finite {name} at step {self.step_no}")
        for d in self.decisions:
            if not math.isfinite(d[7]):
                raise FloatingPointError(f"non-finite utility at step {self.step_no}")

    # -- outputs (section 8)
    def record(self, out):
        """Writes one step's metrics into `out` (a list of n_cells floats)."""
        s = self.s
        nh, np_ = s.nh, s.np
        ix = s.index
        for h in range(nh):
            tt, ts = self.total_trade(h), self.total_security(h)
            te = self.total_exports(h)
            for p in range(np_):
                i = h * np_ + p
                out[ix(M["alignment"], h, p)] = self.alignment[i]
                out[ix(M["trade_turnover_usd_bn"], h, p)] = self.trade[i]
                out[ix(M["trade_share"], h, p)] = ratio(self.trade[i], tt)
                out[ix(M["fdi_stock_usd_bn"], h, p)] = self.fdi[i]
                out[ix(M["fdi_inflow_usd_bn"], h, p)] = 4.0 * self.fdi_inflow[i]
                out[ix(M["exports_usd_bn"], h, p)] = self.exports[i]
                out[ix(M["imports_usd_bn"], h, p)] = self.trade[i] - self.exports[i]
                out[ix(M["pledged_usd_bn"], h, p)] = self.pledged[i]
                out[ix(M["disbursed_usd_bn"], h, p)] = self.disbursed[i]
                out[ix(M["pledged_cumulative_usd_bn"], h, p)] = self.pledged_cum[i]
                out[ix(M["disbursed_cumulative_usd_bn"], h, p)] = self.disbursed_cum[i]
                out[ix(M["security_dependence"], h, p)] = ratio(self.security[i], ts)
                out[ix(M["leverage"], h, p)] = self.leverage[i]
                out[ix(M["acceptance"], h, p)] = self.decisions[i][8]
                out[ix(M["debt_to_patron_pct_gdp"], h, p)] = 100.0 * self.debt_to_patron[i] / self.gdp[h]
                out[ix(M["conversion_ratio"], h, p)] = ratio(self.disbursed_cum[i], self.pledged_due_cum[i])
                out[ix(M["reexport_usd_bn"], h, p)] = self.reexport[i]
                out[ix(M["secondary_sanction_risk"], h, p)] = self.sanction_risk[i]
                # No minerals layer in the core: no mining investment, deposits or output.
                out[ix(M["mining_investment_cumulative_usd_bn"], h, p)] = 0.0
                out[ix(M["minerals_to_patron_share"], h, p)] = 0.0
            row = self.alignment[h * np_:(h + 1) * np_]
            out[ix(M["hedging_index"], h)] = 1.0 - sum(a * a for a in row)
            out[ix(M["trade_total_usd_bn"], h)] = tt
            out[ix(M["exports_total_usd_bn"], h)] = te
            out[ix(M["imports_total_usd_bn"], h)] = tt - te
            other_fdi = s.hosts[h]["other_fdi_inflow"] / 4.0 * self.other_gravity[h]
            out[ix(M["fdi_inflow_total_usd_bn"], h)] = 4.0 * (
                sum(self.fdi_inflow[h * np_:(h + 1) * np_]) + other_fdi)
            out[ix(M["absorptive_capacity"], h)] = self.absorptive[h]
            out[ix(M["trade_concentration_hhi"], h)] = (
                sum(ratio(self.trade[h * np_ + p], tt) ** 2 for p in range(np_))
                + ratio(self.other_trade[h], tt) ** 2)
            out[ix(M["gdp_usd_bn"], h)] = self.gdp[h]
            out[ix(M["govt_debt_pct_gdp"], h)] = self.debt_pct_gdp(h)
            out[ix(M["remittances_usd_bn"], h)] = self.remittances[h]
            out[ix(M["remittances_pct_gdp"], h)] = 100.0 * self.remittances[h] / self.gdp[h]
            out[ix(M["deposits_mapped"], h)] = 0.0
            out[ix(M["deposits_producing"], h)] = 0.0
        for h in range(nh + 1):
            for p in range(np_):
                out[ix(M["credibility"], h, p)] = self.credibility[p]
        for k, (name, per_partner, rule) in enumerate(METRICS):
            if rule == "special":
                continue
            for p in (range(np_) if per_partner else [None]):
                total = sum(out[ix(k, h, p)] for h in range(nh))
                out[ix(k, nh, p)] = total if rule == "sum" else total / nh
        region_trade = sum(self.total_trade(h) for h in range(nh))
        region_gdp = sum(self.gdp)
        hhi = ratio(sum(self.other_trade), region_trade) ** 2
        for p in range(np_):
            share = ratio(sum(self.trade[h * np_ + p] for h in range(nh)), region_trade)
            out[ix(M["trade_share"], nh, p)] = share
            hhi += share * share
            debt = sum(self.debt_to_patron[h * np_ + p] for h in range(nh))
            out[ix(M["debt_to_patron_pct_gdp"], nh, p)] = 100.0 * ratio(debt, region_gdp)
            disbursed = sum(self.disbursed_cum[h * np_ + p] for h in range(nh))
            due = sum(self.pledged_due_cum[h * np_ + p] for h in range(nh))
            out[ix(M["conversion_ratio"], nh, p)] = ratio(disbursed, due)
            out[ix(M["minerals_to_patron_share"], nh, p)] = 0.0
        out[ix(M["trade_concentration_hhi"], nh)] = hhi
        region_debt = sum(self.total_debt(h) for h in range(nh))
        out[ix(M["govt_debt_pct_gdp"], nh)] = 100.0 * ratio(region_debt, region_gdp)
        out[ix(M["remittances_pct_gdp"], nh)] = 100.0 * ratio(sum(self.remittances), region_gdp)


def run_replicate(start, seed, index):
    s = start.s
    rng = np.random.Generator(np.random.PCG64([seed, index]))
    sim = start.clone()
    values = np.empty((s.horizon, s.n_cells))
    decisions = np.empty((s.horizon, s.nh * s.np, len(TERMS)))
    row = [0.0] * s.n_cells
    for step in range(s.horizon):
        sim.step(rng)
        sim.record(row)
        values[step] = row
        decisions[step] = sim.decisions
    return values, decisions


def parameter_sets(manifest):
    """The overrides of each parameter set the greatgame run used (none: one empty set)."""
    record = manifest.get("parameter_set_values")
    if not record:
        return [[]]
    kept = set(record.get("scenario_values_kept", []))
    return [[(k, v) for k, v in zip(record["keys"], row) if k not in kept] for row in record["sets"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("--replicates", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out", default="reference-output")
    ap.add_argument("--no-parameter-sets", action="store_true",
                    help="run the scenario's own values, ignoring the manifest's parameter sets")
    args = ap.parse_args()
    with open(args.manifest) as f:
        manifest = json.load(f)
    resolved = manifest["resolved_scenario"]
    sets = [[]] if args.no_parameter_sets else parameter_sets(manifest)
    replicates = args.replicates or manifest["replicates"]
    seed = args.seed if args.seed is not None else manifest["seed"]
    started = time.perf_counter()
    # The start is the same for every replicate of a set: computed once per set, as
    # greatgame does; replicate i runs set i mod K.
    starts = [Simulation(Scenario(resolved, overrides)) for overrides in sets[:replicates]]
    s = starts[0].s
    values = np.empty((replicates, s.horizon, s.n_cells))
    decision_sums = np.zeros((s.horizon, s.nh * s.np, len(TERMS)))
    for r in range(replicates):
        v, d = run_replicate(starts[r % len(starts)], seed, r)
        values[r] = v
        decision_sums += d
    simulated = time.perf_counter()
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if replicates > 1 else np.zeros_like(mean)
    q = np.quantile(values, [0.05, 0.5, 0.95], axis=0)  # linear = type 7
    decision_means = decision_sums / replicates
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "date", "host", "partner", "metric", "mean", "sd", "p05", "p50", "p95"])
        rows = s.host_ids + ["C5"]
        for step in range(s.horizon):
            date = quarter_label(s.start + step)
            for k, (name, per_partner, _) in enumerate(METRICS):
                for h, host in enumerate(rows):
                    for p in (range(s.np) if per_partner else [None]):
                        c = s.index(k, h, p)
                        w.writerow([step + 1, date, host, "" if p is None else s.patron_ids[p], name,
                                    *(repr(float(x)) for x in (mean[step, c], sd[step, c], q[0, step, c],
                                                               q[1, step, c], q[2, step, c]))])
    with open(os.path.join(args.out, "decisions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "date", "host", "patron"] + TERMS)
        for step in range(s.horizon):
            for h in range(s.nh):
                for p in range(s.np):
                    w.writerow([step + 1, quarter_label(s.start + step), s.host_ids[h], s.patron_ids[p]]
                               + [repr(float(v)) for v in decision_means[step, h * s.np + p]])
    done = time.perf_counter()
    print(f"{replicates} replicates of {s.horizon} quarters ({len(starts)} parameter sets): "
          f"simulation {simulated - started:.2f} s, statistics and files {done - simulated:.2f} s, "
          f"total {done - started:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
