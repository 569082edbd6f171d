//! The comparison's charts: per metric, the hosts together over time with one colour
//! per input (mean lines, 5th-95th percentile bands); per host, small multiples.

use std::path::{Path, PathBuf};

use super::inputs::{CellKey, Input};
use crate::chart::{panel_figure, write_figure, Figure, Line, PanelSpec};
use crate::format::slug;
use crate::job::JobError;
use crate::metrics::ALL_HOSTS;
use crate::output::MetricInfo;

/// Writes each figure of [`figures`] as PNG and SVG into `dir`.
pub(super) fn draw_charts(dir: &Path, figures: &[(String, Figure)]) -> Result<Vec<PathBuf>, JobError> {
    let mut written = Vec::new();
    for (stem, figure) in figures {
        written.extend(write_figure(dir, stem, figure)?);
    }
    Ok(written)
}

/// Per metric, the hosts together over time with one colour per input; per host, small
/// multiples of every compared metric and partner. By file stem, in the order written.
pub(super) fn figures(
    inputs: &[Input],
    hosts: &[(String, String)],
    partners: &[(String, String)],
    metrics: &[MetricInfo],
) -> Vec<(String, Figure)> {
    let mut written = Vec::new();
    let x_range = {
        let lo = inputs.iter().map(|i| i.start).min().expect("inputs");
        let hi = inputs.iter().map(Input::last).max().expect("inputs");
        (lo.decimal_year(), hi.decimal_year())
    };
    let names = inputs.iter().map(|i| i.label.as_str()).collect::<Vec<_>>().join(", ");
    // What the bands hold: parameter sets and decision noise, or decision noise only.
    let sets: Vec<usize> = inputs
        .iter()
        .map(|i| {
            i.sets_record
                .as_ref()
                .map_or(1, |r| r.sets.len().min(i.replicates as usize).max(1))
        })
        .collect();
    let holds = if sets.windows(2).all(|w| w[0] == w[1]) {
        crate::ensemble::band_holds(sets[0])
    } else {
        ": each input's parameter sets and decision noise".to_string()
    };
    let note = format!("Lines: mean across replicates; bands: 5th\u{2013}95th percentile{holds}.");
    let partner_name = |id: &str| {
        partners
            .iter()
            .find(|(p, _)| p == id)
            .map_or(id.to_string(), |(_, n)| n.clone())
    };
    let lines = |key: &CellKey| -> Vec<Line> {
        inputs
            .iter()
            .enumerate()
            .map(|(j, input)| Line {
                label: input.label.clone(),
                color_index: j,
                points: input
                    .series
                    .get(key)
                    .map(|series| {
                        series
                            .iter()
                            .enumerate()
                            .map(|(s, st)| (input.start.plus(s as i64).decimal_year(), st.mean, st.p05, st.p95))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    };
    // One figure per metric: the hosts together.
    for m in metrics {
        let panels: Vec<PanelSpec> = if m.per_partner {
            partners
                .iter()
                .map(|(p, _)| PanelSpec {
                    title: Some(partner_name(p)),
                    y_desc: m.unit.clone(),
                    lines: lines(&(m.name.clone(), ALL_HOSTS.to_string(), p.clone())),
                })
                .collect()
        } else {
            vec![PanelSpec {
                title: None,
                y_desc: m.unit.clone(),
                lines: lines(&(m.name.clone(), ALL_HOSTS.to_string(), String::new())),
            }]
        };
        let figure = panel_figure(
            format!("{}: all hosts ({ALL_HOSTS}), by scenario", m.name),
            format!("{}. {names}. {note}", m.description),
            panels,
            None,
            x_range,
        );
        written.push((m.name.clone(), figure));
    }
    // Small multiples per host: every compared metric (regional ones have no host
    // rows) and partner.
    for (host, host_name) in hosts {
        let mut panels = Vec::new();
        for m in metrics.iter().filter(|m| !m.is_regional()) {
            if m.per_partner {
                for (p, _) in partners {
                    panels.push(PanelSpec {
                        title: Some(format!("{} \u{2013} {}", m.name, partner_name(p))),
                        y_desc: m.unit.clone(),
                        lines: lines(&(m.name.clone(), host.clone(), p.clone())),
                    });
                }
            } else {
                panels.push(PanelSpec {
                    title: Some(m.name.clone()),
                    y_desc: m.unit.clone(),
                    lines: lines(&(m.name.clone(), host.clone(), String::new())),
                });
            }
        }
        if panels.is_empty() {
            continue;
        }
        let figure = panel_figure(
            format!("{host_name}: compared metrics by scenario"),
            format!("{names}. {note}"),
            panels,
            None,
            x_range,
        );
        written.push((format!("host_{}", slug(host)), figure));
    }
    written
}
