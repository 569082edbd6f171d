//! The written account of a run: for each host, the largest moves in alignment, trade and
//! security dependence, what its decisions on the patron's offers were made of, the
//! levers behind the leading term, and the events in force with what changed while they
//! were. Every sentence is computed from a run's tables ([`crate::output::tables`]: the
//! ensemble means and percentiles of `summary.csv` and the decision terms of
//! `decisions.csv`) and its scenario (levers, allocations, events); `report.html` shows it
//! and `greatgame explain` prints it.
//!
//! Decision terms are the mean over replicates of each term of a host's value of one
//! patron's offers, in percent of the host's quarterly GDP (docs/MODEL.md §7.2). The run
//! records the ensemble, not which replicates a random (hazard) event struck, so for such
//! an event the account gives the chance it was in force, computed from its hazard.

use std::fmt::Write as _;

use crate::analysis::outcomes::{default_horizons, DEFAULT_METRICS};
use crate::ensemble::EnsembleSummary;
use crate::format::{short, signed};
use crate::metrics::MetricId;
use crate::model::events::{Event, Op, Target, Trigger};
use crate::model::quantities::{Quantity, HOST_QUANTITIES, PATRON_QUANTITIES, ROUTE_QUANTITIES};
use crate::model::{DecisionTerms, Scenario};
use crate::stats::CellStats;
use crate::time::Quarter;

/// The seven terms that add up to a host's value of an offer.
const TERMS: usize = 7;
const UTILITY: usize = 7;
const ACCEPTANCE: usize = 8;
/// Quarters averaged for "the first year", "the last year", "before" and "during".
const WINDOW: usize = 4;
/// Moves smaller than this (in the metric's unit, shares) are reported as no move.
const SMALLEST_MOVE: f64 = 5e-4;

/// The moves an account looks for: metric, heading, and what it measures, with `{H}` for
/// the host and `{P}` for the patron.
const MOVES: [(MetricId, &str, &str); 3] = [
    (MetricId::Alignment, "Alignment", "{H}'s alignment with {P}"),
    (MetricId::TradeShare, "Trade", "{P}'s share of {H}'s trade"),
    (
        MetricId::SecurityDependence,
        "Dependence",
        "{P}'s share of {H}'s arms and security assistance",
    ),
];
/// The decision term that is noise: it averages out over replicates, so its changes say
/// how large a change the ensemble cannot tell from chance, not what drove a move.
const NOISE: usize = 6;

/// "Kazakhstan's", "United States'".
fn possessive(name: &str) -> String {
    if name.ends_with('s') {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// "1 quarter", "4 quarters".
fn quarters(n: usize) -> String {
    if n == 1 {
        "1 quarter".to_string()
    } else {
        format!("{n} quarters")
    }
}

/// A run's account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub scenario: String,
    pub description: String,
    pub first: Quarter,
    pub last: Quarter,
    pub replicates: u64,
    pub hosts: Vec<HostAccount>,
}

/// One host's part of the account.
#[derive(Debug, Clone, PartialEq)]
pub struct HostAccount {
    pub id: String,
    pub name: String,
    pub sections: Vec<Section>,
}

/// A heading and its sentences.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    pub sentences: Vec<String>,
}

impl Account {
    /// The account of one host, by id or name (any case).
    pub fn host(&self, wanted: &str) -> Option<&HostAccount> {
        self.hosts
            .iter()
            .find(|h| h.id.eq_ignore_ascii_case(wanted) || h.name.eq_ignore_ascii_case(wanted))
    }

    /// The opening lines: the scenario, its question and what the numbers are.
    pub fn preamble(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Scenario {}: {} to {}, {} replicates.",
            self.scenario, self.first, self.last, self.replicates
        )];
        if !self.description.is_empty() {
            lines.push(format!("Question: {}", self.description));
        }
        lines.push(
            "Values are means over replicates, bands the 5th to 95th percentiles (summary.csv); decision terms are \
             means in percent of the host's quarterly GDP (decisions.csv)."
                .to_string(),
        );
        lines
    }

    /// Plain text: the preamble, then each host (or only `hosts`), wrapped at 92 columns.
    pub fn text(&self, hosts: &[&HostAccount]) -> String {
        let mut out = String::new();
        for line in self.preamble() {
            out.push_str(&wrap(&line, "", 92));
        }
        for host in hosts {
            let _ = writeln!(out, "\n{} ({})", host.name, host.id);
            for section in &host.sections {
                let _ = writeln!(out, "  {}:", section.heading);
                for sentence in &section.sentences {
                    out.push_str(&wrap(sentence, "    ", 92));
                }
            }
        }
        out
    }
}

/// Words of `text` on lines of at most `width` characters, each starting with `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One headline outcome of the hosts together at the start, mid-run and end.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub metric: String,
    pub unit: String,
    pub partner: String,
    /// (quarter, statistics) at the first quarter, a mid-run quarter and the last.
    pub at: Vec<(Quarter, CellStats)>,
}

/// The headline outcomes ([`DEFAULT_METRICS`]) of all hosts together (`C5`).
pub fn headlines(scenario: &Scenario, summary: &EnsembleSummary) -> Vec<Headline> {
    let run = Run { scenario, summary };
    let Some(last) = run.last_step() else {
        return Vec::new();
    };
    let mut steps = vec![0];
    for q in default_horizons(scenario.start, scenario.quarter_of_step(last as u32)) {
        let step = q.since(scenario.start) as usize;
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    let layout = &summary.layout;
    let row = layout.all_hosts_row();
    let mut rows = Vec::new();
    for metric in DEFAULT_METRICS {
        let spec = metric.spec();
        let partners: Vec<Option<usize>> = if spec.per_partner {
            (0..scenario.n_patrons()).map(Some).collect()
        } else {
            vec![None]
        };
        for p in partners {
            let cell = layout.index(layout.base(metric), row, p);
            rows.push(Headline {
                metric: spec.name.to_string(),
                unit: spec.unit.to_string(),
                partner: p.map_or(String::new(), |p| scenario.patrons[p].name.clone()),
                at: steps
                    .iter()
                    .map(|&s| (scenario.quarter_of_step(s as u32), *summary.cell(s, cell)))
                    .collect(),
            });
        }
    }
    rows
}

/// The account of a run of `scenario` whose tables are `summary`.
pub fn explain(scenario: &Scenario, summary: &EnsembleSummary) -> Account {
    let run = Run { scenario, summary };
    let last = run.last_step().unwrap_or(0);
    Account {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        first: scenario.start,
        last: scenario.quarter_of_step(last as u32),
        replicates: summary.replicates,
        hosts: (0..scenario.n_hosts()).map(|h| run.host_account(h)).collect(),
    }
}

/// The run's numbers with the scenario's names.
struct Run<'a> {
    scenario: &'a Scenario,
    summary: &'a EnsembleSummary,
}

impl Run<'_> {
    fn last_step(&self) -> Option<usize> {
        self.summary.n_steps.checked_sub(1)
    }

    fn quarter(&self, step: usize) -> Quarter {
        self.scenario.quarter_of_step(step as u32)
    }

    fn stats(&self, metric: MetricId, host: usize, patron: Option<usize>, step: usize) -> &CellStats {
        let layout = &self.summary.layout;
        self.summary.cell(step, layout.index(layout.base(metric), host, patron))
    }

    fn term(&self, step: usize, host: usize, patron: usize, term: usize) -> f64 {
        self.summary.decision(step, host, patron, term)
    }

    /// Mean of a decision term over steps `range`.
    fn term_mean(&self, range: std::ops::Range<usize>, host: usize, patron: usize, term: usize) -> f64 {
        let n = range.len().max(1) as f64;
        range.map(|s| self.term(s, host, patron, term)).sum::<f64>() / n
    }

    fn host_name(&self, h: usize) -> &str {
        &self.scenario.hosts[h].name
    }

    fn patron_name(&self, p: usize) -> &str {
        &self.scenario.patrons[p].name
    }

    fn host_account(&self, h: usize) -> HostAccount {
        let host = &self.scenario.hosts[h];
        let mut sections = Vec::new();
        let Some(last) = self.last_step().filter(|&l| l > 0) else {
            sections.push(Section {
                heading: "Moves".to_string(),
                sentences: vec![format!(
                    "The run simulated {} quarter(s), too few to measure a move.",
                    self.summary.n_steps
                )],
            });
            return HostAccount {
                id: host.id.clone(),
                name: host.name.clone(),
                sections,
            };
        };
        let mut moves = Vec::new();
        let mut movers: Vec<usize> = Vec::new();
        for (metric, heading, what) in MOVES {
            let (sentence, mover) = self.move_sentence(h, metric, heading, what, last);
            moves.push(sentence);
            if let Some(p) = mover {
                if !movers.contains(&p) {
                    movers.push(p);
                }
            }
        }
        sections.push(Section {
            heading: "Largest moves".to_string(),
            sentences: moves,
        });
        for &p in &movers {
            sections.push(Section {
                heading: format!("Its decisions on {} offers", possessive(self.patron_name(p))),
                sentences: self.decision_sentences(h, p, last),
            });
        }
        let events = self.event_sentences(h, last);
        if !events.is_empty() {
            sections.push(Section {
                heading: "Events in force".to_string(),
                sentences: events,
            });
        }
        HostAccount {
            id: host.id.clone(),
            name: host.name.clone(),
            sections,
        }
    }

    /// The largest change from the first quarter to the last of one metric over the
    /// patrons, and the patron it concerns (none when nothing moved).
    fn move_sentence(
        &self,
        h: usize,
        metric: MetricId,
        heading: &str,
        what: &str,
        last: usize,
    ) -> (String, Option<usize>) {
        let np = self.scenario.n_patrons();
        let delta = |p: usize| self.stats(metric, h, Some(p), last).mean - self.stats(metric, h, Some(p), 0).mean;
        let Some(best) = (0..np).reduce(|a, b| if delta(b).abs() > delta(a).abs() { b } else { a }) else {
            return (format!("{heading}: the scenario has no patron."), None);
        };
        let (q0, q_end) = (self.quarter(0), self.quarter(last));
        let d = delta(best);
        let measure = |p: usize| {
            what.replace("{H}'s", &possessive(self.host_name(h)))
                .replace("{P}'s", &possessive(self.patron_name(p)))
                .replace("{P}", self.patron_name(p))
        };
        if d.abs() < SMALLEST_MOVE {
            return (
                format!(
                    "{heading}: nothing moved by as much as {} between {q0} and {q_end}; the largest change was in {} ({}).",
                    short(SMALLEST_MOVE),
                    measure(best),
                    signed(d)
                ),
                None,
            );
        }
        let mid = last / 2;
        let start = self.stats(metric, h, Some(best), 0);
        let middle = self.stats(metric, h, Some(best), mid);
        let end = self.stats(metric, h, Some(best), last);
        let mut sentence = format!(
            "{heading}: the largest move was {} {}: {} {} from {} in {q0} to {} in {} and {} in {q_end} ({}; \
             5th\u{2013}95th percentile {}\u{2013}{} in {q_end}).",
            if d > 0.0 { "toward" } else { "away from" },
            self.patron_name(best),
            measure(best),
            if d > 0.0 { "rose" } else { "fell" },
            short(start.mean),
            short(middle.mean),
            self.quarter(mid),
            short(end.mean),
            signed(d),
            short(end.p05),
            short(end.p95)
        );
        let other = (0..np)
            .filter(|&p| p != best && delta(p) * d < 0.0 && delta(p).abs() >= SMALLEST_MOVE)
            .reduce(|a, b| if delta(b).abs() > delta(a).abs() { b } else { a });
        if let Some(o) = other {
            let _ = write!(
                sentence,
                " The largest move the other way: {} ({}).",
                measure(o),
                signed(delta(o))
            );
        }
        (sentence, Some(best))
    }

    /// What host `h`'s value of patron `p`'s offers was made of, how it changed, and the
    /// levers behind the term that changed most.
    fn decision_sentences(&self, h: usize, p: usize, last: usize) -> Vec<String> {
        let n = last + 1;
        let all = 0..n;
        let mean = |t: usize| self.term_mean(all.clone(), h, p, t);
        let parts: Vec<String> = (0..TERMS)
            .map(|t| format!("{} {}", DecisionTerms::NAMES[t], signed(mean(t))))
            .collect();
        let mut sentences = vec![format!(
            "Over the run {} valued {} offers at {} % of its quarterly GDP a quarter on average ({}), and took {}% \
             of what was offered.",
            self.host_name(h),
            possessive(self.patron_name(p)),
            signed(mean(UTILITY)),
            parts.join(", "),
            short(100.0 * mean(ACCEPTANCE))
        )];
        let k = WINDOW.min(n);
        let (first, final_) = (0..k, n - k..n);
        let change = |t: usize| self.term_mean(final_.clone(), h, p, t) - self.term_mean(first.clone(), h, p, t);
        let mut order: Vec<usize> = (0..TERMS).filter(|&t| t != NOISE).collect();
        order.sort_by(|&a, &b| change(b).abs().total_cmp(&change(a).abs()).then(a.cmp(&b)));
        let lead = order[0];
        let window =
            |r: &std::ops::Range<usize>| format!("{}\u{2013}{}", self.quarter(r.start), self.quarter(r.end - 1));
        sentences.push(format!(
            "From the first year ({}) to the last ({}) the {} term changed most, from {} to {} ({}), then {} ({}); the \
             net value went from {} to {} and the share taken from {}% to {}% (the noise term, which averages out \
             over replicates, changed by {}).",
            window(&first),
            window(&final_),
            DecisionTerms::NAMES[lead],
            signed(self.term_mean(first.clone(), h, p, lead)),
            signed(self.term_mean(final_.clone(), h, p, lead)),
            signed(change(lead)),
            DecisionTerms::NAMES[order[1]],
            signed(change(order[1])),
            signed(self.term_mean(first.clone(), h, p, UTILITY)),
            signed(self.term_mean(final_.clone(), h, p, UTILITY)),
            short(100.0 * self.term_mean(first.clone(), h, p, ACCEPTANCE)),
            short(100.0 * self.term_mean(final_.clone(), h, p, ACCEPTANCE)),
            signed(change(NOISE))
        ));
        // The levers of the largest term on average, and of the one that changed most.
        let mut by_size: Vec<usize> = (0..TERMS).filter(|&t| t != NOISE).collect();
        by_size.sort_by(|&a, &b| mean(b).abs().total_cmp(&mean(a).abs()).then(a.cmp(&b)));
        for t in [by_size[0], lead] {
            let levers = self.levers_of(t, h, p);
            if !levers.is_empty()
                && !sentences
                    .iter()
                    .any(|s| s.starts_with(&format!("The {} term", DecisionTerms::NAMES[t])))
            {
                sentences.push(format!(
                    "The {} term rests on {} (at the start of the run).",
                    DecisionTerms::NAMES[t],
                    levers.join(", ")
                ));
            }
        }
        sentences
    }

    /// The levers a decision term is made of (docs/MODEL.md §7.2), with their values.
    fn levers_of(&self, term: usize, h: usize, p: usize) -> Vec<String> {
        let s = self.scenario;
        let (host, patron) = (&s.hosts[h], &s.patrons[p]);
        let (hn, pn) = (possessive(&host.name), possessive(&patron.name));
        let (hl, pl) = (&host.levers, &patron.levers);
        let share = patron.allocation.get(h).copied().unwrap_or(0.0);
        let allocation = format!(
            "the {}% of {pn} budgets allocated to {}{}",
            short(100.0 * share),
            host.name,
            if patron.strategy.rule == crate::model::StrategyRule::Fixed {
                String::new()
            } else {
                " (its strategy moves this during the run)".to_string()
            }
        );
        match DecisionTerms::NAMES[term] {
            "economic" => vec![
                format!("{pn} investment_budget_usd_bn {}", short(pl.investment_budget_usd_bn)),
                allocation,
                format!("its credibility {}", short(patron.credibility)),
                format!("its trade_offer {}", short(pl.trade_offer)),
                format!("{hn} absorptive_capacity {}", short(hl.absorptive_capacity)),
                format!("model.economic_weight {}", short(s.params.economic_weight)),
            ],
            "security" => vec![
                format!("{pn} security_budget_usd_bn {}", short(pl.security_budget_usd_bn)),
                allocation,
                format!("{hn} security_openness {}", short(hl.security_openness)),
                format!("its threat_level {}", short(hl.threat_level)),
                format!("model.security_weight {}", short(s.params.security_weight)),
            ],
            "concentration" => vec![
                format!("{hn} concentration_aversion {}", short(hl.concentration_aversion)),
                format!(
                    "model.attraction_weights.offers {}",
                    short(s.params.attraction_weights.offers)
                ),
            ],
            "sovereignty" => vec![
                format!("{pn} conditionality {}", short(pl.conditionality)),
                format!("its loan_share {}", short(pl.loan_share)),
                format!("{hn} sovereignty_sensitivity {}", short(hl.sovereignty_sensitivity)),
                format!(
                    "its govt_debt_pct_gdp {} against debt_tolerance_pct_gdp {}",
                    short(host.govt_debt_pct_gdp),
                    short(hl.debt_tolerance_pct_gdp)
                ),
            ],
            "displeasure" => {
                let mut levers: Vec<String> = s
                    .patrons
                    .iter()
                    .enumerate()
                    .filter(|(q, _)| *q != p)
                    .map(|(_, q)| {
                        format!(
                            "{} assertiveness {}",
                            possessive(&q.name),
                            short(q.levers.assertiveness)
                        )
                    })
                    .collect();
                levers.push(format!(
                    "model.displeasure_weight {}",
                    short(s.params.displeasure_weight)
                ));
                levers
            }
            "goodwill" => vec![format!("{pn} goodwill {}", short(pl.goodwill))],
            "noise" => vec![format!("model.decision_noise_sd {}", short(s.params.decision_noise_sd))],
            _ => Vec::new(),
        }
    }

    /// The events that reach host `h` (through itself, any patron or any route) and what
    /// changed while they were in force.
    fn event_sentences(&self, h: usize, last: usize) -> Vec<String> {
        let mut sentences = Vec::new();
        for event in &self.scenario.events {
            let reaches = event.effects.iter().any(|e| match e.target {
                Target::Host(i) => i == h,
                _ => true,
            });
            if !reaches {
                continue;
            }
            let effects = self.effects_text(event);
            match event.trigger {
                Trigger::At(at) => {
                    if let Some(sentence) = self.dated_event(h, event, at, &effects, last) {
                        sentences.push(sentence);
                    }
                }
                Trigger::Hazard {
                    per_quarter,
                    from,
                    until,
                } => {
                    let chance = hazard_in_force(self.scenario.start, last + 1, event, per_quarter, from, until);
                    let window = match (from, until) {
                        (Some(f), Some(u)) => format!(" from {f} to {u}"),
                        (Some(f), None) => format!(" from {f}"),
                        (None, Some(u)) => format!(" until {u}"),
                        (None, None) => String::new(),
                    };
                    let lasting = event
                        .duration_quarters
                        .map_or("to the end of the run".to_string(), |d| format!("for {d} quarters"));
                    sentences.push(format!(
                        "\"{}\" ({effects}) may start with a chance of {} a quarter{window}, lasting {lasting}; the \
                         chance that it was in force averaged {}% a quarter over the run (computed from its hazard: the \
                         run keeps the ensemble's statistics, not which replicates it struck).",
                        event.name,
                        short(per_quarter),
                        short(100.0 * chance)
                    ));
                }
            }
        }
        sentences
    }

    fn dated_event(&self, h: usize, event: &Event, at: Quarter, effects: &str, last: usize) -> Option<String> {
        let n = last + 1;
        let start = at.since(self.scenario.start);
        let end = event.duration_quarters.map(|d| start + i64::from(d));
        let (s, e) = (start.max(0), end.unwrap_or(n as i64).min(n as i64));
        if s >= e {
            return None;
        }
        let (s, e) = (s as usize, e as usize);
        let until = if e == n && end.map_or(true, |end| end >= n as i64) {
            "to the end of the run".to_string()
        } else {
            format!("to {}", self.quarter(e - 1))
        };
        let mut sentence = format!(
            "\"{}\" ({effects}) was in force from {} {until} ({})",
            event.name,
            self.quarter(s),
            quarters(e - s)
        );
        if s == 0 {
            sentence
                .push_str("; it applied from the first quarter, so the run has no quarter without it to compare with.");
            return Some(sentence);
        }
        // Patrons its effects name; all patrons if it names a host, all of them or a route.
        let named: Vec<usize> = event
            .effects
            .iter()
            .filter_map(|e| match e.target {
                Target::Patron(p) => Some(p),
                _ => None,
            })
            .collect();
        let patrons: Vec<usize> = if !named.is_empty() && named.len() == event.effects.len() {
            named
        } else {
            (0..self.scenario.n_patrons()).collect()
        };
        let before = s.saturating_sub(WINDOW)..s;
        let during = s..(s + WINDOW).min(e);
        let change =
            |p: usize, t: usize| self.term_mean(during.clone(), h, p, t) - self.term_mean(before.clone(), h, p, t);
        let mut best: Option<(usize, usize)> = None;
        for &p in &patrons {
            for t in (0..TERMS).filter(|&t| t != NOISE) {
                if best.map_or(true, |(bp, bt)| change(p, t).abs() > change(bp, bt).abs()) {
                    best = Some((p, t));
                }
            }
        }
        let Some((p, t)) = best else {
            sentence.push('.');
            return Some(sentence);
        };
        let _ = write!(
            sentence,
            ": in its first {} the {} term of {} offers to {} averaged {} % of quarterly GDP against {} in the {} \
             before ({}), the largest change of any term (noise: {}), and {} took {}% of the offers against {}%",
            quarters(during.len()),
            DecisionTerms::NAMES[t],
            possessive(self.patron_name(p)),
            self.host_name(h),
            signed(self.term_mean(during.clone(), h, p, t)),
            signed(self.term_mean(before.clone(), h, p, t)),
            quarters(before.len()),
            signed(change(p, t)),
            signed(change(p, NOISE)),
            self.host_name(h),
            short(100.0 * self.term_mean(during.clone(), h, p, ACCEPTANCE)),
            short(100.0 * self.term_mean(before.clone(), h, p, ACCEPTANCE))
        );
        let a0 = self.stats(MetricId::Alignment, h, Some(p), s - 1).mean;
        let a1 = self.stats(MetricId::Alignment, h, Some(p), e - 1).mean;
        let _ = write!(
            sentence,
            "; {} alignment with {} went from {} in {} to {} in {} ({}).",
            possessive(self.host_name(h)),
            self.patron_name(p),
            short(a0),
            self.quarter(s - 1),
            short(a1),
            self.quarter(e - 1),
            signed(a1 - a0)
        );
        Some(sentence)
    }

    /// "CHN investment_budget_usd_bn ×2, all hosts threat_level +0.1".
    fn effects_text(&self, event: &Event) -> String {
        event
            .effects
            .iter()
            .map(|e| {
                let actor = match e.target {
                    Target::Host(i) => self.scenario.hosts[i].id.clone(),
                    Target::Patron(i) => self.scenario.patrons[i].id.clone(),
                    Target::Route(i) => self.scenario.routes[i].id.clone(),
                    Target::AllHosts => "all hosts".to_string(),
                    Target::AllPatrons => "all patrons".to_string(),
                    Target::AllRoutes => "all routes".to_string(),
                };
                let op = match e.op {
                    Op::Set => format!("set to {}", short(e.value)),
                    Op::Add => signed(e.value),
                    Op::Multiply => format!("\u{d7}{}", short(e.value)),
                };
                format!("{actor} {} {op}", quantity_name(e.quantity))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A quantity's name in the scenario file.
pub fn quantity_name(quantity: Quantity) -> &'static str {
    match quantity {
        Quantity::Host(q) => HOST_QUANTITIES.iter().find(|e| e.1 == q).map_or("?", |e| e.0),
        Quantity::Patron(q) => PATRON_QUANTITIES.iter().find(|e| e.1 == q).map_or("?", |e| e.0),
        Quantity::Route(q) => ROUTE_QUANTITIES.iter().find(|e| e.1 == q).map_or("?", |e| e.0),
    }
}

/// The chance a hazard event is in force, averaged over the `steps` quarters from `start`:
/// the event clock's rule (docs/MODEL.md: a running event cannot start again; one that
/// ends may start again in the same quarter) followed in probability.
fn hazard_in_force(
    start: Quarter,
    steps: usize,
    event: &Event,
    per_quarter: f64,
    from: Option<Quarter>,
    until: Option<Quarter>,
) -> f64 {
    // ages[a]: chance the event started a quarters ago and is still running (for an event
    // without a duration, one bucket: running).
    let buckets = event.duration_quarters.map_or(1, |d| d.max(1) as usize);
    let mut ages = vec![0.0; buckets];
    let mut idle = 1.0;
    let mut total = 0.0;
    for step in 0..steps {
        let quarter = start.plus(step as i64);
        if step > 0 && event.duration_quarters.is_some() {
            // Age by one quarter; those reaching the duration end.
            idle += ages[buckets - 1];
            ages.rotate_right(1);
            ages[0] = 0.0;
        }
        let in_window = from.map_or(true, |f| quarter >= f) && until.map_or(true, |u| quarter <= u);
        let starting = if in_window { idle * per_quarter } else { 0.0 };
        idle -= starting;
        ages[0] += starting;
        total += ages.iter().sum::<f64>();
    }
    if steps == 0 {
        0.0
    } else {
        total / steps as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::Trigger;

    fn hazard(duration: Option<u32>) -> Event {
        Event {
            name: "h".into(),
            trigger: Trigger::Hazard {
                per_quarter: 0.5,
                from: None,
                until: None,
            },
            duration_quarters: duration,
            effects: Vec::new(),
        }
    }

    #[test]
    fn hazard_chances_follow_the_clock() {
        let q: Quarter = "2024Q1".parse().unwrap();
        // Lasting for ever: in force with chance 1 - 0.5^(t+1) in quarter t.
        let forever = hazard_in_force(q, 2, &hazard(None), 0.5, None, None);
        assert!((forever - (0.5 + 0.75) / 2.0).abs() < 1e-12, "{forever}");
        // One quarter each time, restarting as soon as it ends: 0.5 in every quarter.
        let one = hazard_in_force(q, 10, &hazard(Some(1)), 0.5, None, None);
        assert!((one - 0.5).abs() < 1e-12, "{one}");
        // Two quarters: in force 0.5 in the first quarter; in the second, the 0.5 still
        // running plus half of the 0.5 idle.
        let two = hazard_in_force(q, 2, &hazard(Some(2)), 0.5, None, None);
        assert!((two - (0.5 + 0.75) / 2.0).abs() < 1e-12, "{two}");
        // Outside its window it never starts.
        let late: Quarter = "2030Q1".parse().unwrap();
        assert_eq!(hazard_in_force(q, 4, &hazard(None), 0.5, Some(late), None), 0.0);
    }

    #[test]
    fn text_wraps_without_losing_words() {
        let text = "one two three four five six seven eight nine ten";
        let wrapped = wrap(text, "  ", 14);
        assert!(wrapped.lines().all(|l| l.chars().count() <= 14), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().collect::<Vec<_>>().join(" "), text);
    }
}
