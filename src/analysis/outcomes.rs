//! Outcomes the analyses measure, in one place: metric names given on the command line
//! (`--metrics`), quarters (`--at`), horizons, and outcomes `metric:HOST:PARTNER` at a
//! date, resolved against a scenario's metric layout.

use crate::ensemble::EnsembleSummary;
use crate::job::JobError;
use crate::metrics::{
    CommodityMetric, MetricId, MetricLayout, RouteMetric, ALL_HOSTS, COMMODITY_METRICS, METRICS, ROUTE_METRICS,
};
use crate::model::Scenario;
use crate::time::Quarter;

/// An outcome specification that does not name an outcome of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OutcomeError(String);

impl From<OutcomeError> for JobError {
    fn from(e: OutcomeError) -> JobError {
        JobError::Usage(e.0)
    }
}

/// Metrics compared and swept when the command line does not say.
pub const DEFAULT_METRICS: [MetricId; 5] = [
    MetricId::Alignment,
    MetricId::TradeShare,
    MetricId::HedgingIndex,
    MetricId::FdiStockUsdBn,
    MetricId::SecurityDependence,
];

/// Metric names from a comma-separated list (`None`: [`DEFAULT_METRICS`]), in the order
/// given, without repeats.
///
/// A name is a base metric ([`METRICS`]), a per-commodity or per-route one
/// (`<prefix>.<id>`, prefixes in [`COMMODITY_METRICS`] and [`ROUTE_METRICS`]), or a bare
/// prefix (`route_share`, `supply_share`), which stands for the metric of every route or
/// commodity. Whether a scenario has that commodity or route is known only from its
/// layout, so the commands resolve these names per scenario ([`expand_metrics`],
/// [`resolve_metrics`]). An unknown name is refused with the nearest names.
pub fn parse_metrics(list: Option<&str>) -> Result<Vec<String>, JobError> {
    let names: Vec<&str> = match list {
        None => DEFAULT_METRICS.iter().map(|m| m.name()).collect(),
        Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
    };
    if names.is_empty() {
        return Err(JobError::Usage("--metrics names no metric".to_string()));
    }
    let mut metrics: Vec<String> = Vec::new();
    for name in names {
        if !is_metric_name(name) {
            return Err(JobError::Usage(format!(
                "unknown metric {name:?}{}; {}",
                did_you_mean(&nearest_metric_names(name)),
                METRICS_HELP
            )));
        }
        if !metrics.iter().any(|m| m == name) {
            metrics.push(name.to_string());
        }
    }
    Ok(metrics)
}

/// Where a person finds every metric name, for messages that do not list them all.
const METRICS_HELP: &str = "a per-route or per-commodity prefix alone (route_share, supply_share, ...) selects it for \
     every route or commodity; every metric is listed in docs/MODEL.md section 8 and in each run's manifest.json";

/// Whether `name` is the prefix of a family of per-commodity or per-route metrics.
pub fn is_family(name: &str) -> bool {
    CommodityMetric::from_name(name).is_some() || RouteMetric::from_name(name).is_some()
}

/// Whether `name` can name a metric of some scenario: a base metric, a family prefix, or
/// `<commodity or route prefix>.<id>`.
pub fn is_metric_name(name: &str) -> bool {
    if MetricId::from_name(name).is_some() || is_family(name) {
        return true;
    }
    match name.split_once('.') {
        Some((prefix, id)) => !id.is_empty() && is_family(prefix),
        None => false,
    }
}

/// The names nearest to an unknown metric name: base metrics and family prefixes, with
/// the `.id` part kept.
fn nearest_metric_names(name: &str) -> Vec<String> {
    let (prefix, id) = match name.split_once('.') {
        Some((prefix, id)) => (prefix, Some(id)),
        None => (name, None),
    };
    let mut candidates: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
    candidates.extend(COMMODITY_METRICS.iter().chain(ROUTE_METRICS).map(|m| m.name));
    nearest(prefix, &candidates)
        .into_iter()
        .map(|n| match id {
            Some(id) if is_family(&n) => format!("{n}.{id}"),
            _ => n,
        })
        .collect()
}

/// Up to three of `candidates` nearest to `text` by edit distance, nearest first: those
/// within a third of the longer name's length (at least 2 edits), or that contain it.
pub fn nearest(text: &str, candidates: &[&str]) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| {
            let limit = (c.len().max(lower.len()) / 3).max(2);
            *d <= limit || (lower.len() >= 3 && c.to_ascii_lowercase().contains(&lower))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c.to_string()).collect()
}

/// `; did you mean "a" or "b"?`, or nothing when there is no near name.
pub fn did_you_mean(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("; did you mean {one:?}?"),
        [init @ .., last] => format!(
            "; did you mean {} or {last:?}?",
            init.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `names` with every family prefix replaced by the metrics of that family among
/// `available` (a scenario's metric names, in its order); other names are kept.
pub fn expand_metrics(names: &[String], available: &[&str]) -> Vec<String> {
    let mut expanded: Vec<String> = Vec::new();
    for name in names {
        let members: Vec<String> = if is_family(name) {
            available
                .iter()
                .filter(|a| a.split_once('.').is_some_and(|(prefix, _)| prefix == name))
                .map(|a| a.to_string())
                .collect()
        } else {
            vec![name.clone()]
        };
        for member in members {
            if !expanded.contains(&member) {
                expanded.push(member);
            }
        }
    }
    expanded
}

/// A scenario's metric names, for messages.
pub fn layout_metric_names(layout: &MetricLayout) -> String {
    layout
        .metrics()
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Indices in `layout` of the metrics named, in order (a family prefix: every metric of
/// the family the scenario has); an error names the first one the scenario `what` does
/// not have, and the nearest names it does.
pub fn resolve_metrics(names: &[String], layout: &MetricLayout, what: &str) -> Result<Vec<usize>, JobError> {
    let available: Vec<&str> = layout.metrics().iter().map(|m| m.name.as_str()).collect();
    let expanded = expand_metrics(names, &available);
    if let Some(family) = names
        .iter()
        .find(|n| is_family(n) && !expanded.iter().any(|e| e.starts_with(&format!("{n}."))))
    {
        return Err(JobError::Usage(format!(
            "{what} has no metric of the {family} family: it has no {}",
            if CommodityMetric::from_name(family).is_some() {
                "commodities"
            } else {
                "routes"
            }
        )));
    }
    expanded
        .iter()
        .map(|name| {
            layout.find(name).ok_or_else(|| {
                JobError::Usage(format!(
                    "{what} has no metric {name:?}{}",
                    did_you_mean(&nearest(name, &available))
                ))
            })
        })
        .collect()
}

/// Outcome specifications (`metric[:HOST[:PARTNER]]`, see [`parse_outcomes`]) from a
/// comma-separated list such as `--outputs`, in the order given; `None` without a list.
pub fn parse_outcome_list(list: Option<&str>) -> Option<Vec<String>> {
    let specs = |list: &str| {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    list.map(specs)
}

/// Quarters from a comma-separated list such as `2030Q4,2035Q4`, sorted, without repeats.
pub fn parse_dates(list: &str) -> Result<Vec<Quarter>, JobError> {
    let mut dates = Vec::new();
    for text in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let date: Quarter = text.parse().map_err(|e| JobError::Usage(format!("--at: {e}")))?;
        dates.push(date);
    }
    if dates.is_empty() {
        return Err(JobError::Usage("--at names no quarter".to_string()));
    }
    dates.sort();
    dates.dedup();
    Ok(dates)
}

/// The default horizons of a run window: a mid-run quarter and the last quarter.
pub fn default_horizons(first: Quarter, last: Quarter) -> Vec<Quarter> {
    let len = last.since(first) + 1;
    let mid = first.plus((len / 2 - 1).max(0));
    if mid < last {
        vec![mid, last]
    } else {
        vec![last]
    }
}

/// Checks that every horizon lies in `[first, last]` of `what`.
pub fn check_horizons(horizons: &[Quarter], first: Quarter, last: Quarter, what: &str) -> Result<(), JobError> {
    for &date in horizons {
        if date < first || date > last {
            return Err(JobError::Usage(format!(
                "--at {date} is outside {what}, which runs {first} to {last}"
            )));
        }
    }
    Ok(())
}

/// The last quarter a scenario simulates.
pub fn last_quarter(scenario: &Scenario) -> Quarter {
    scenario.quarter_of_step(scenario.horizon_quarters.saturating_sub(1))
}

/// One outcome: a metric in one cell (host row, partner) at one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub metric: usize,
    /// Row in the layout (`host_labels`; the last is C5).
    pub host: usize,
    pub partner: Option<usize>,
    pub date: Quarter,
}

/// An outcome as a design's identity hashes it: metric, host row, partner and date.
pub type OutcomeIdentity = (usize, usize, Option<usize>, String);

impl Outcome {
    /// The outcome as a design's identity hashes it (shards of designs over other
    /// outcomes must not merge).
    pub fn identity(&self) -> OutcomeIdentity {
        (self.metric, self.host, self.partner, self.date.to_string())
    }

    /// `metric:HOST:PARTNER@DATE`, as named in outputs.
    pub fn label(&self, layout: &MetricLayout) -> String {
        let mut label = format!("{}:{}", layout.metric(self.metric).name, layout.host_labels[self.host]);
        if let Some(p) = self.partner {
            label.push(':');
            label.push_str(&layout.partner_labels[p]);
        }
        label.push('@');
        label.push_str(&self.date.to_string());
        label
    }

    /// `metric (HOST, PARTNER) at DATE`, for titles.
    pub fn title(&self, layout: &MetricLayout) -> String {
        let mut cell = layout.host_labels[self.host].clone();
        if let Some(p) = self.partner {
            cell.push_str(", ");
            cell.push_str(&layout.partner_labels[p]);
        }
        format!("{} ({cell}) at {}", layout.metric(self.metric).name, self.date)
    }

    /// The outcome's statistics in an ensemble summary of `scenario`. `layout` is the
    /// layout the outcome was parsed against; the metric, host and partner are found by
    /// name in the summary's own layout (`None` if it lacks one of them).
    pub fn stats<'a>(
        &self,
        layout: &MetricLayout,
        scenario: &Scenario,
        summary: &'a EnsembleSummary,
    ) -> Option<&'a crate::stats::CellStats> {
        let own = &summary.layout;
        let metric = own.find(&layout.metric(self.metric).name)?;
        let host = own
            .host_labels
            .iter()
            .position(|h| *h == layout.host_labels[self.host])?;
        let partner = match self.partner {
            Some(p) => Some(own.partner_labels.iter().position(|l| *l == layout.partner_labels[p])?),
            None => None,
        };
        let step = self.date.since(scenario.start) as usize;
        Some(summary.cell(step, own.index(metric, host, partner)))
    }

    /// Whether a scenario of layout `other` has this outcome's cell (see [`Outcome::stats`]).
    pub fn exists_in(&self, layout: &MetricLayout, other: &MetricLayout) -> bool {
        other.find(&layout.metric(self.metric).name).is_some()
            && other.host_labels.contains(&layout.host_labels[self.host])
            && match self.partner {
                Some(p) => other.partner_labels.contains(&layout.partner_labels[p]),
                None => true,
            }
    }
}

/// Parses outcome specifications `metric`, `metric:HOST` or `metric:HOST:PARTNER` (host
/// defaults to C5; a per-partner metric without a partner means every partner) at each of
/// `dates`.
pub fn parse_outcomes(
    specs: &[String],
    layout: &MetricLayout,
    dates: &[Quarter],
) -> Result<Vec<Outcome>, OutcomeError> {
    let mut outcomes = Vec::new();
    for spec in specs {
        let parts: Vec<&str> = spec.split(':').map(str::trim).collect();
        if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(OutcomeError(format!(
                "outcome {spec:?} should be metric, metric:HOST or metric:HOST:PARTNER"
            )));
        }
        // A family prefix (`route_share`) names that metric of every route (commodity).
        let names: Vec<&str> = layout.metrics().iter().map(|m| m.name.as_str()).collect();
        let members = expand_metrics(&[parts[0].to_string()], &names);
        let metrics: Vec<usize> = members.iter().filter_map(|m| layout.find(m)).collect();
        if is_family(parts[0]) && metrics.is_empty() {
            return Err(OutcomeError(format!(
                "outcome {spec:?}: the scenario has no metric of the {} family",
                parts[0]
            )));
        }
        if metrics.is_empty() {
            return Err(OutcomeError(format!(
                "outcome {spec:?}: unknown metric {:?}{}",
                parts[0],
                did_you_mean(&nearest(parts[0], &names))
            )));
        }
        for &metric in &metrics {
            let spec_of = layout.metric(metric);
            let host_label = parts.get(1).copied().unwrap_or(ALL_HOSTS);
            let host = layout.host_labels.iter().position(|h| h == host_label).ok_or_else(|| {
                OutcomeError(format!(
                    "outcome {spec:?}: no host {host_label:?} (hosts: {})",
                    layout.host_labels.join(", ")
                ))
            })?;
            if spec_of.regional && host != layout.all_hosts_row() {
                return Err(OutcomeError(format!(
                    "outcome {spec:?}: {} is regional: it has only the {ALL_HOSTS} row",
                    parts[0]
                )));
            }
            let partners: Vec<Option<usize>> = match (spec_of.per_partner, parts.get(2)) {
                (false, None) => vec![None],
                (false, Some(_)) => {
                    return Err(OutcomeError(format!("outcome {spec:?}: {} has no partner", parts[0])));
                }
                (true, None) => (0..layout.partner_labels.len()).map(Some).collect(),
                (true, Some(p)) => vec![Some(layout.partner_labels.iter().position(|l| l == p).ok_or_else(
                    || {
                        OutcomeError(format!(
                            "outcome {spec:?}: no partner {p:?} (partners: {})",
                            layout.partner_labels.join(", ")
                        ))
                    },
                )?)],
            };
            for &date in dates {
                for &partner in &partners {
                    let outcome = Outcome {
                        metric,
                        host,
                        partner,
                        date,
                    };
                    if !outcomes.contains(&outcome) {
                        outcomes.push(outcome);
                    }
                }
            }
        }
    }
    if outcomes.is_empty() {
        return Err(OutcomeError("no outcomes were named".to_string()));
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_horizons_are_mid_run_and_last() {
        let q = |s: &str| s.parse::<Quarter>().unwrap();
        assert_eq!(default_horizons(q("2024Q1"), q("2035Q4")), [q("2029Q4"), q("2035Q4")]);
        assert_eq!(default_horizons(q("2024Q1"), q("2025Q4")), [q("2024Q4"), q("2025Q4")]);
        assert_eq!(default_horizons(q("2024Q1"), q("2024Q1")), [q("2024Q1")]);
    }

    #[test]
    fn metrics_and_dates_parse_with_clear_errors() {
        assert_eq!(parse_metrics(None).unwrap().len(), DEFAULT_METRICS.len());
        assert_eq!(
            parse_metrics(Some("hedging_index, alignment,hedging_index")).unwrap(),
            ["hedging_index", "alignment"]
        );
        assert_eq!(
            parse_metrics(Some("route_cargo_mt.MIDDLE,supply_share.rare_earths")).unwrap(),
            ["route_cargo_mt.MIDDLE", "supply_share.rare_earths"]
        );
        for bad in ["route_cargo_mt.", "cargo.MIDDLE", "alignment.USA"] {
            assert!(parse_metrics(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            parse_metrics(Some("route_share,supply_share")).unwrap(),
            ["route_share", "supply_share"]
        );
        let err = parse_metrics(Some("alignmnt")).unwrap_err().to_string();
        assert!(
            err.contains("unknown metric \"alignmnt\"; did you mean \"alignment\"?"),
            "{err}"
        );
        assert!(!err.contains("trade_share"), "no list of every metric: {err}");
        let err = parse_metrics(Some("route_shares.MIDDLE")).unwrap_err().to_string();
        assert!(err.contains("did you mean \"route_share.MIDDLE\""), "{err}");
        let err = parse_metrics(Some("hedging")).unwrap_err().to_string();
        assert!(err.contains("\"hedging_index\""), "{err}");
        assert_eq!(
            parse_outcome_list(Some(" alignment:C5:USA, ,hedging_index")),
            Some(vec!["alignment:C5:USA".to_string(), "hedging_index".to_string()])
        );
        assert_eq!(parse_outcome_list(None), None);
        let dates = parse_dates("2035Q4,2030Q4,2030Q4").unwrap();
        assert_eq!(dates.len(), 2);
        assert!(parse_dates("2030Q5").is_err());
    }

    #[test]
    fn outcomes_name_per_commodity_and_per_route_metrics() {
        let loaded = crate::scenario::load_builtin_baseline().expect("the built-in baseline loads");
        let layout = MetricLayout::new(&loaded.scenario);
        let dates = [loaded.scenario.start];
        let specs = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let outcomes =
            parse_outcomes(&specs(&["route_cargo_mt.MIDDLE", "alignment:KAZ:USA"]), &layout, &dates).unwrap();
        assert_eq!(outcomes.len(), 2);
        assert_eq!(outcomes[0].host, layout.all_hosts_row());
        assert_eq!(outcomes[0].label(&layout), "route_cargo_mt.MIDDLE:C5@2024Q1");
        assert_eq!(outcomes[1].label(&layout), "alignment:KAZ:USA@2024Q1");
        let every = parse_outcomes(&specs(&["route_share"]), &layout, &dates).unwrap();
        assert_eq!(every.len(), loaded.scenario.routes.len(), "a family names every route");
        let err = parse_outcomes(&specs(&["route_cargo_mt.MIDDLE:KAZ"]), &layout, &dates).unwrap_err();
        assert!(err.to_string().contains("regional"), "{err}");
        let err = parse_outcomes(&specs(&["route_cargo_mt.MIDLE"]), &layout, &dates).unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("unknown metric") && err.contains("did you mean \"route_cargo_mt.MIDDLE\""),
            "{err}"
        );
        let metrics = resolve_metrics(&specs(&["route_share.MIDDLE", "alignment"]), &layout, "baseline").unwrap();
        assert_eq!(metrics[1], 0);
        assert_eq!(layout.metric(metrics[0]).name, "route_share.MIDDLE");
        assert!(resolve_metrics(&specs(&["route_share.NOPE"]), &layout, "baseline").is_err());
        let err = resolve_metrics(&specs(&["route_share.MIDLE"]), &layout, "baseline").unwrap_err();
        assert!(err.to_string().contains("did you mean \"route_share.MIDDLE\""), "{err}");
        // A family prefix selects the metric for every route (or commodity).
        let all = resolve_metrics(&specs(&["route_share"]), &layout, "baseline").unwrap();
        assert_eq!(all.len(), loaded.scenario.routes.len());
        for (m, route) in all.iter().zip(&loaded.scenario.routes) {
            assert_eq!(layout.metric(*m).name, format!("route_share.{}", route.id));
        }
        let all = resolve_metrics(&specs(&["supply_share", "alignment"]), &layout, "baseline").unwrap();
        assert_eq!(all.len(), loaded.scenario.commodities.len() + 1);
    }
}
