#!/usr/bin/env python3
"""A plain, single-threaded Python implementation of greatgame's state-level model.

A benchmark artefact, not a test: it does the same work per replicate as greatgame's
core model (docs/MODEL.md, sections 3, 5 and 7: events, offers, host decisions with
decision noise, pledge pipelines with binomial delivery, economy, trade, leverage,
alignment, patron adaptation, the finite-state check, and the 18 metrics of section 8
per host, the C5 row and partner), keeps every replicate's values, and computes the
mean, standard deviation and type 7 quantiles of every cell and the mean decision terms
at the end, writing summary.csv and decisions.csv. It is written the way an analyst
would write an agent-based model in Python: agents' state in lists, one loop per
agent and quarter, numpy for the random draws and the final statistics.

What differs from greatgame (see README.md beside this file): the random generator
(numpy's PCG64, not ChaCha8), so replicates differ draw for draw; events are applied
with the same rules but a simpler lever clamp; the output has no charts or manifest.

Usage:
    python3 greatgame_ref.py MANIFEST_JSON [--replicates N] [--seed S] [--out DIR]

MANIFEST_JSON is the manifest.json of a greatgame run: its resolved_scenario holds every
parameter after defaults. Requires numpy.
"""

import argparse
import csv
import math
import os
import sys
import time
from collections import deque

import numpy as np

HOST_LEVERS = [
    "trend_growth_pct", "absorptive_capacity", "threat_level", "security_openness",
    "concentration_aversion", "sovereignty_sensitivity", "remittances_pct_gdp",
    "debt_tolerance_pct_gdp",
]
PATRON_LEVERS = [
    "investment_budget_usd_bn", "security_budget_usd_bn", "trade_offer", "conditionality",
    "assertiveness", "goodwill", "economy_growth_pct", "sanctions", "loan_share",
]
UNIT_LEVERS = {"absorptive_capacity", "threat_level", "security_openness", "trade_offer",
               "conditionality", "assertiveness", "sanctions", "loan_share"}
TERMS = ["economic", "security", "concentration", "sovereignty", "displeasure", "goodwill",
         "noise", "utility", "acceptance"]
# name, per partner, C5 rule
METRICS = [
    ("alignment", True, "mean"), ("hedging_index", False, "mean"),
    ("trade_turnover_usd_bn", True, "sum"), ("trade_share", True, "special"),
    ("trade_total_usd_bn", False, "sum"), ("trade_concentration_hhi", False, "special"),
    ("fdi_stock_usd_bn", True, "sum"), ("pledged_usd_bn", True, "sum"),
    ("disbursed_usd_bn", True, "sum"), ("pledged_cumulative_usd_bn", True, "sum"),
    ("disbursed_cumulative_usd_bn", True, "sum"), ("security_dependence", True, "mean"),
    ("leverage", True, "mean"), ("acceptance", True, "mean"), ("credibility", True, "special"),
    ("debt_to_patron_pct_gdp", True, "special"), ("gdp_usd_bn", False, "sum"),
    ("govt_debt_pct_gdp", False, "special"),
]


def quarter_index(text):
    year, q = text.split("Q")
    return int(year) * 4 + int(q) - 1


def quarter_label(index):
    return f"{index // 4}Q{index % 4 + 1}"


def ratio(a, b):
    return a / b if b > 0 else 0.0


class Scenario:
    def __init__(self, resolved):
        self.raw = resolved
        self.params = resolved["model"]
        self.hosts = resolved["hosts"]
        self.patrons = resolved["patrons"]
        self.events = resolved["events"]
        self.start = quarter_index(resolved["time"]["start"])
        self.horizon = resolved["time"]["horizon_quarters"]
        self.nh = len(self.hosts)
        self.np = len(self.patrons)
        self.host_ids = [h["id"] for h in self.hosts]
        self.patron_ids = [p["id"] for p in self.patrons]
        p = self.params
        self.fdi_dep = p["fdi_depreciation_pct_per_year"] / 400.0
        self.debt_amort = p["debt_amortization_pct_per_year"] / 400.0
        self.other_growth = p["other_partners_growth_pct"] / 400.0
        # Allocation over hosts, normalised; GDP shares when empty.
        self.allocation = []
        for patron in self.patrons:
            given = [patron["allocation"].get(h, 0.0) for h in self.host_ids]
            if sum(given) <= 0:
                given = [h["gdp_usd_bn"] for h in self.hosts]
            total = sum(given)
            self.allocation.append([g / total for g in given])
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
    def __init__(self, s):
        self.s = s
        nh, np_ = s.nh, s.np
        hp = nh * np_
        self.step_no = 0
        self.host_levers = [{k: h[k] for k in HOST_LEVERS} for h in s.hosts]
        self.patron_levers = [{k: p[k] for k in PATRON_LEVERS} for p in s.patrons]
        self.running = [0] * len(s.events)  # quarters left, 0 = not running
        self.gdp = [h["gdp_usd_bn"] for h in s.hosts]
        self.other_trade = [h["other_trade_usd_bn"] for h in s.hosts]
        self.other_security = [0.0] * nh
        self.other_debt = [0.0] * nh
        z = lambda: [0.0] * hp
        self.alignment, self.previous_alignment, self.initial_alignment = z(), z(), z()
        self.trade_base, self.initial_trade_factor, self.trade = z(), [1.0] * hp, z()
        self.trade_access, self.fdi, self.security, self.debt_to_patron = z(), z(), z(), z()
        self.leverage, self.pledged, self.disbursed = z(), z(), z()
        self.pledged_cum, self.disbursed_cum, self.offered = z(), z(), z()
        self.decisions = [[0.0] * len(TERMS) for _ in range(hp)]
        self.credibility = [p["credibility"] for p in s.patrons]
        self.allocation = [row[:] for row in s.allocation]
        self.propensity = [row[:] for row in s.allocation]
        self.pipelines = [deque() for _ in range(np_)]
        for h, host in enumerate(s.hosts):
            ref = 2.0 * host["defence_budget_usd_bn"]
            self.other_security[h] = host["other_security_share"] * ref
            debt = host["govt_debt_pct_gdp"] / 100.0 * host["gdp_usd_bn"]
            share = sum(host["ties"][p]["debt_share"] for p in s.patron_ids)
            self.other_debt[h] = max(0.0, 1.0 - share) * debt
            for p, pid in enumerate(s.patron_ids):
                tie = host["ties"][pid]
                i = h * np_ + p
                self.trade_base[i] = self.trade[i] = tie["trade_usd_bn"]
                self.fdi[i] = tie["fdi_stock_usd_bn"]
                self.security[i] = tie["arms_share"] * ref
                self.debt_to_patron[i] = tie["debt_share"] * debt
        self.update_leverage()
        for h, host in enumerate(s.hosts):
            given = [host["ties"][p].get("alignment") for p in s.patron_ids]
            if all(g is not None for g in given) and sum(given) > 0:
                total = sum(given)
                target = [g / total for g in given]
            else:
                target = self.alignment_target(h, 0.0)
            self.alignment[h * np_:(h + 1) * np_] = target
        self.previous_alignment = self.alignment[:]
        self.initial_alignment = self.alignment[:]
        for i in range(hp):
            self.initial_trade_factor[i] = self.trade_factor(i)

    # -- totals
    def total_trade(self, h):
        np_ = self.s.np
        return sum(self.trade[h * np_:(h + 1) * np_]) + self.other_trade[h]

    def total_security(self, h):
        np_ = self.s.np
        return sum(self.security[h * np_:(h + 1) * np_]) + self.other_security[h]

    def total_debt(self, h):
        np_ = self.s.np
        return sum(self.debt_to_patron[h * np_:(h + 1) * np_]) + self.other_debt[h]

    def debt_pct_gdp(self, h):
        return 100.0 * self.total_debt(h) / self.gdp[h]

    # -- the quarter
    def step(self, rng):
        s = self.s
        quarter = s.start + self.step_no
        self.step_no += 1
        self.events(quarter, rng)
        self.decide(rng)
        self.disburse(rng)
        self.grow_economy()
        self.update_trade()
        self.update_leverage()
        self.update_alignment()
        self.adapt_patrons()
        self.check_finite()

    def events(self, quarter, rng):
        s = self.s
        for e, event in enumerate(s.events):
            if self.running[e] > 0:
                self.running[e] -= 1
            if self.running[e] == 0:
                start = False
                if event.get("at") is not None and quarter_index(event["at"]) == quarter:
                    start = True
                elif event.get("hazard_per_quarter"):
                    lo = quarter_index(event["from"]) if event.get("from") else -10**9
                    hi = quarter_index(event["until"]) if event.get("until") else 10**9
                    if lo <= quarter <= hi and rng.random() < event["hazard_per_quarter"]:
                        start = True
                if start:
                    duration = event.get("duration_quarters")
                    self.running[e] = duration if duration else 10**9
        self.host_levers = [{k: h[k] for k in HOST_LEVERS} for h in s.hosts]
        self.patron_levers = [{k: p[k] for k in PATRON_LEVERS} for p in s.patrons]
        for e, event in enumerate(s.events):
            if self.running[e] == 0:
                continue
            for effect in event["effects"]:
                actor, q, op, v = effect["actor"], effect["quantity"], effect["op"], effect["value"]
                if actor in s.host_ids or actor == "hosts":
                    targets = [self.host_levers[s.host_ids.index(actor)]] if actor != "hosts" else self.host_levers
                else:
                    targets = [self.patron_levers[s.patron_ids.index(actor)]] if actor != "patrons" else self.patron_levers
                for levers in targets:
                    if op == "set":
                        levers[q] = v
                    elif op == "add":
                        levers[q] += v
                    else:
                        levers[q] *= v
        for levers in self.host_levers + self.patron_levers:
            for k in levers:
                levers[k] = min(1.0, max(0.0, levers[k])) if k in UNIT_LEVERS else levers[k]

    def decide(self, rng):
        s, par = self.s, self.s.params
        np_, nh = s.np, s.nh
        sd = par["decision_noise_sd"]
        step = self.step_no
        for h, host in enumerate(s.hosts):
            lv = self.host_levers[h]
            qgdp = self.gdp[h] / 4.0
            qdef = max(host["defence_budget_usd_bn"] / 4.0, 1e-6)
            row = self.alignment[h * np_:(h + 1) * np_]
            hhi = sum(a * a for a in row)
            stress = (self.debt_pct_gdp(h) / lv["debt_tolerance_pct_gdp"]) ** 2
            for p in range(np_):
                i = h * np_ + p
                pl = self.patron_levers[p]
                share = self.allocation[p][h]
                inv = pl["investment_budget_usd_bn"] / 4.0 * share
                sec = pl["security_budget_usd_bn"] / 4.0 * share
                gain = par["trade_access_gain"] * pl["trade_offer"] * self.trade[i] / 4.0
                economic = (par["economic_weight"] * lv["absorptive_capacity"]
                            * (self.credibility[p] * inv + gain) / qgdp * 100.0)
                security = (par["security_weight"] * lv["threat_level"] * lv["security_openness"]
                            * sec / qdef)
                concentration = -lv["concentration_aversion"] * 2.0 * (self.alignment[i] - hhi)
                sovereignty = (-lv["sovereignty_sensitivity"]
                               * (pl["conditionality"] + pl["loan_share"] * stress) * inv / qgdp * 100.0)
                rival = sum(self.patron_levers[q]["assertiveness"] * self.leverage[h * np_ + q]
                            for q in range(np_) if q != p)
                displeasure = -par["displeasure_weight"] * rival
                goodwill = pl["goodwill"]
                noise = rng.normal(0.0, sd) if sd > 0 else 0.0
                utility = economic + security + concentration + sovereignty + displeasure + goodwill + noise
                acceptance = 1.0 / (1.0 + math.exp(-(utility - par["acceptance_threshold"])))
                self.decisions[i] = [economic, security, concentration, sovereignty, displeasure,
                                     goodwill, noise, utility, acceptance]
                pledge = acceptance * inv
                self.pledged[i] = pledge
                self.pledged_cum[i] += pledge
                if pledge > 0:
                    self.pipelines[p].append((h, step + s.patrons[p]["pledge_lag_quarters"], pledge))
                taken = acceptance * lv["security_openness"] * sec
                self.security[i] = self.security[i] * (1.0 - par["security_decay"]) + taken
                self.trade_access[i] = (self.trade_access[i] * (1.0 - par["trade_access_decay"])
                                        + acceptance * pl["trade_offer"])
                self.offered[i] = acceptance * (inv + sec * lv["security_openness"] + gain)

    def disburse(self, rng):
        s, par = self.s, self.s.params
        np_ = s.np
        self.disbursed = [0.0] * len(self.disbursed)
        for p in range(np_):
            due_weighted = delivered = 0.0
            pipeline = self.pipelines[p]
            while pipeline and pipeline[0][1] <= self.step_no:
                h, _, amount = pipeline.popleft()
                capacity = self.host_levers[h]["absorptive_capacity"]
                chance = min(1.0, max(0.0, self.credibility[p] * capacity))
                n = max(1.0, math.ceil(amount / par["project_size_usd_bn"]))
                done = float(rng.binomial(int(n), chance))
                paid = amount * done / n
                i = h * np_ + p
                self.disbursed[i] += paid
                self.disbursed_cum[i] += paid
                loan = self.patron_levers[p]["loan_share"]
                self.fdi[i] += (1.0 - loan) * paid
                self.debt_to_patron[i] += loan * paid
                due_weighted += amount * capacity
                delivered += paid
            if due_weighted > 0:
                rate = min(1.0, max(0.0, delivered / due_weighted))
                learning = s.patrons[p]["credibility_learning"]
                self.credibility[p] = (1.0 - learning) * self.credibility[p] + learning * rate

    def grow_economy(self):
        s, par = self.s, self.s.params
        np_ = s.np
        for h in range(s.nh):
            disbursed = sum(self.disbursed[h * np_:(h + 1) * np_])
            growth = (self.host_levers[h]["trend_growth_pct"] / 400.0
                      + par["investment_growth_multiplier"] * disbursed / self.gdp[h])
            factor = max(1.0 + growth, 0.01)
            self.gdp[h] *= factor
            self.other_trade[h] *= factor * (1.0 + s.other_growth)
            self.other_debt[h] *= factor
            for p in range(np_):
                i = h * np_ + p
                self.fdi[i] *= 1.0 - s.fdi_dep
                self.debt_to_patron[i] *= 1.0 - s.debt_amort
                pg = self.patron_levers[p]["economy_growth_pct"] / 400.0
                self.trade_base[i] *= factor * max(1.0 + pg, 0.01)

    def trade_factor(self, i):
        par = self.s.params
        p = i % self.s.np
        return (par["trade_access_gain"] * self.trade_access[i]
                + par["trade_alignment_elasticity"] * (self.alignment[i] - self.initial_alignment[i])
                - par["sanctions_trade_elasticity"] * self.patron_levers[p]["sanctions"])

    def update_trade(self):
        for i in range(len(self.trade)):
            self.trade[i] = self.trade_base[i] * math.exp(self.trade_factor(i) - self.initial_trade_factor[i])

    def update_leverage(self):
        s = self.s
        w = s.params["leverage_weights"]
        np_ = s.np
        wsum = max(w["trade"] + w["security"] + w["remittances"] + w["debt"], 1e-12)
        for h, host in enumerate(s.hosts):
            lv = self.host_levers[h]
            tt, ts, td = self.total_trade(h), self.total_security(h), self.total_debt(h)
            rw = min(lv["remittances_pct_gdp"] / 20.0, 1.0)
            dw = min(self.debt_pct_gdp(h) / 60.0, 1.0)
            for p, pid in enumerate(s.patron_ids):
                i = h * np_ + p
                self.leverage[i] = (w["trade"] * ratio(self.trade[i], tt)
                                    + w["security"] * ratio(self.security[i], ts)
                                    + w["remittances"] * host["ties"][pid]["remittance_share"] * rw
                                    + w["debt"] * ratio(self.debt_to_patron[i], td) * dw) / wsum

    def alignment_target(self, h, offers_weight):
        s = self.s
        w = s.params["attraction_weights"]
        np_ = s.np
        r = slice(h * np_, (h + 1) * np_)
        openness = self.host_levers[h]["security_openness"]
        remit = [s.hosts[h]["ties"][p]["remittance_share"] for p in s.patron_ids]
        channels = [(w["trade"], self.trade[r]), (w["fdi"], self.fdi[r]),
                    (w["security"] * openness, self.security[r]), (w["remittances"], remit),
                    (offers_weight, self.offered[r])]
        attraction = [0.0] * np_
        used = 0.0
        for weight, values in channels:
            total = sum(values)
            if weight <= 0 or total <= 0:
                continue
            used += weight
            for p in range(np_):
                attraction[p] += weight * values[p] / total
        if used <= 0:
            return [1.0 / np_] * np_
        return [a / used for a in attraction]

    def update_alignment(self):
        s = self.s
        np_ = s.np
        inertia = s.params["alignment_inertia"]
        self.previous_alignment = self.alignment[:]
        for h in range(s.nh):
            target = self.alignment_target(h, s.params["attraction_weights"]["offers"])
            row = [(1.0 - inertia) * a + inertia * t
                   for a, t in zip(self.alignment[h * np_:(h + 1) * np_], target)]
            total = sum(row)
            self.alignment[h * np_:(h + 1) * np_] = [a / total for a in row]

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
        for values in (self.gdp, self.other_trade, self.other_debt, self.alignment, self.trade,
                       self.fdi, self.security, self.debt_to_patron):
            for v in values:
                if not math.isfinite(v):
                    raise FloatingPointError(f"non-finite state at step {self.step_no}")
        for d in self.decisions:
            if not math.isfinite(d[7]):
                raise FloatingPointError(f"non-finite utility at step {self.step_no}")

    def record(self, out):
        """Writes one step's metrics into `out` (a list of n_cells floats)."""
        s = self.s
        nh, np_ = s.nh, s.np
        m = {name: k for k, (name, _, _) in enumerate(METRICS)}
        for h in range(nh):
            tt, ts = self.total_trade(h), self.total_security(h)
            for p in range(np_):
                i = h * np_ + p
                out[s.index(m["alignment"], h, p)] = self.alignment[i]
                out[s.index(m["trade_turnover_usd_bn"], h, p)] = self.trade[i]
                out[s.index(m["trade_share"], h, p)] = ratio(self.trade[i], tt)
                out[s.index(m["fdi_stock_usd_bn"], h, p)] = self.fdi[i]
                out[s.index(m["pledged_usd_bn"], h, p)] = self.pledged[i]
                out[s.index(m["disbursed_usd_bn"], h, p)] = self.disbursed[i]
                out[s.index(m["pledged_cumulative_usd_bn"], h, p)] = self.pledged_cum[i]
                out[s.index(m["disbursed_cumulative_usd_bn"], h, p)] = self.disbursed_cum[i]
                out[s.index(m["security_dependence"], h, p)] = ratio(self.security[i], ts)
                out[s.index(m["leverage"], h, p)] = self.leverage[i]
                out[s.index(m["acceptance"], h, p)] = self.decisions[i][8]
                out[s.index(m["debt_to_patron_pct_gdp"], h, p)] = 100.0 * self.debt_to_patron[i] / self.gdp[h]
            row = self.alignment[h * np_:(h + 1) * np_]
            out[s.index(m["hedging_index"], h)] = 1.0 - sum(a * a for a in row)
            out[s.index(m["trade_total_usd_bn"], h)] = tt
            out[s.index(m["trade_concentration_hhi"], h)] = (
                sum(ratio(self.trade[h * np_ + p], tt) ** 2 for p in range(np_))
                + ratio(self.other_trade[h], tt) ** 2)
            out[s.index(m["gdp_usd_bn"], h)] = self.gdp[h]
            out[s.index(m["govt_debt_pct_gdp"], h)] = self.debt_pct_gdp(h)
        for h in range(nh + 1):
            for p in range(np_):
                out[s.index(m["credibility"], h, p)] = self.credibility[p]
        for k, (name, per_partner, rule) in enumerate(METRICS):
            if rule == "special":
                continue
            for p in (range(np_) if per_partner else [None]):
                total = sum(out[s.index(k, h, p)] for h in range(nh))
                out[s.index(k, nh, p)] = total if rule == "sum" else total / nh
        region_trade = sum(self.total_trade(h) for h in range(nh))
        region_gdp = sum(self.gdp)
        hhi = ratio(sum(self.other_trade), region_trade) ** 2
        for p in range(np_):
            share = ratio(sum(self.trade[h * np_ + p] for h in range(nh)), region_trade)
            out[s.index(m["trade_share"], nh, p)] = share
            hhi += share * share
            debt = sum(self.debt_to_patron[h * np_ + p] for h in range(nh))
            out[s.index(m["debt_to_patron_pct_gdp"], nh, p)] = 100.0 * ratio(debt, region_gdp)
        out[s.index(m["trade_concentration_hhi"], nh)] = hhi
        region_debt = sum(self.total_debt(h) for h in range(nh))
        out[s.index(m["govt_debt_pct_gdp"], nh)] = 100.0 * ratio(region_debt, region_gdp)


def run_replicate(s, seed, index):
    rng = np.random.Generator(np.random.PCG64([seed, index]))
    sim = Simulation(s)
    values = np.empty((s.horizon, s.n_cells))
    decisions = np.empty((s.horizon, s.nh * s.np, len(TERMS)))
    row = [0.0] * s.n_cells
    for step in range(s.horizon):
        sim.step(rng)
        sim.record(row)
        values[step] = row
        decisions[step] = sim.decisions
    return values, decisions


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("--replicates", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out", default="reference-output")
    args = ap.parse_args()
    with open(args.manifest) as f:
        import json
        manifest = json.load(f)
    s = Scenario(manifest["resolved_scenario"])
    replicates = args.replicates or manifest["replicates"]
    seed = args.seed if args.seed is not None else manifest["seed"]
    started = time.perf_counter()
    values = np.empty((replicates, s.horizon, s.n_cells))
    decision_sums = np.zeros((s.horizon, s.nh * s.np, len(TERMS)))
    for r in range(replicates):
        v, d = run_replicate(s, seed, r)
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
    print(f"{replicates} replicates of {s.horizon} quarters: simulation {simulated - started:.2f} s, "
          f"statistics and files {done - simulated:.2f} s, total {done - started:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
