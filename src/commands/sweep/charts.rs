//! A sweep's charts: what they draw gathered as the points come, bounded whatever the
//! number of points, then drawn.

use std::path::{Path, PathBuf};

use super::points::Points;
use super::{cell, numeric, MAX_CHART_POINTS};
use crate::analysis::outcomes::Outcome;
use crate::chart::{panel_figure, write_figure, Line, PanelSpec};
use crate::format::slug;
use crate::job::JobError;
use crate::metrics::{MetricLayout, ALL_HOSTS};
use crate::stats::CellStats;
use crate::time::Quarter;

/// What the charts draw, gathered as the points come: for every parameter of numbers, a
/// chart per metric of the hosts together at the last horizon against the parameter.
/// Points that share the other parameters' values make a line (up to 7 lines; more, or a
/// design file, and each point is drawn on its own). At most about [`MAX_CHART_POINTS`]
/// points are kept per parameter: beyond, every `stride`-th point of each line (and its
/// last) or of the scattered points, so what is held does not grow with the sweep.
pub(super) struct Charts {
    /// The last horizon, the charts' date.
    date: Option<Quarter>,
    /// Per metric, per panel (partner), the outcome drawn.
    drawn: Vec<Vec<(Option<usize>, usize)>>,
    axes: Vec<Axis>,
    stride: usize,
    points: usize,
}

/// One parameter's charts.
struct Axis {
    key: usize,
    x_range: (f64, f64),
    /// The lines: label, members and members seen; `None`: each point on its own.
    lines: Option<Vec<(String, usize, usize)>>,
    /// The points kept: line, x and per drawn outcome mean, 5th and 95th percentile.
    kept: Vec<(usize, f64, Vec<[f64; 3]>)>,
}

impl Charts {
    pub(super) fn new(
        points: &Points,
        outcomes: &[Outcome],
        layout: &MetricLayout,
        metrics: &[usize],
        horizons: &[Quarter],
    ) -> Charts {
        let n = points.len();
        let date = horizons.last().copied();
        let c5 = layout.n_rows() - 1;
        let drawn = if date.is_none() {
            Vec::new()
        } else {
            metrics
                .iter()
                .map(|&metric| {
                    let partners: Vec<Option<usize>> = if layout.metric(metric).per_partner {
                        (0..layout.partner_labels.len()).map(Some).collect()
                    } else {
                        vec![None]
                    };
                    partners
                        .into_iter()
                        .map(|partner| {
                            let index = outcomes
                                .iter()
                                .position(|o| {
                                    o.metric == metric && o.host == c5 && o.partner == partner && Some(o.date) == date
                                })
                                .expect("every outcome is recorded");
                            (partner, index)
                        })
                        .collect()
                })
                .collect()
        };
        let mut axes = Vec::new();
        if date.is_some() {
            for k in 0..points.keys.len() {
                // A parameter of words has no axis.
                let mut x_range = (f64::INFINITY, f64::NEG_INFINITY);
                let mut lines: Option<Vec<(String, usize, usize)>> = (!points.scattered).then(Vec::new);
                let mut numbers = true;
                for p in 0..n {
                    let values = points.values(p);
                    let Some(x) = numeric(&values[k]) else {
                        numbers = false;
                        break;
                    };
                    x_range = (x_range.0.min(x), x_range.1.max(x));
                    if let Some(found) = &mut lines {
                        let label = line_label(&points.keys, &values, k);
                        match found.iter().position(|(l, ..)| *l == label) {
                            Some(line) => found[line].1 += 1,
                            None if found.len() < 7 => found.push((label, 1, 0)),
                            None => lines = None,
                        }
                    }
                }
                if numbers {
                    axes.push(Axis {
                        key: k,
                        x_range,
                        lines,
                        kept: Vec::new(),
                    });
                }
            }
        }
        Charts {
            date,
            drawn,
            axes,
            stride: n.div_ceil(MAX_CHART_POINTS).max(1),
            points: n,
        }
    }

    /// About the bytes the charts will hold: every axis's points kept, and while a
    /// figure is drawn each point (a dot, at worst) as a line of its own, with a label,
    /// in every panel, twice (the panels and the figure made of them). Measured: 10,000
    /// dots against two parameters in three panels held 20 MB more than no charts.
    pub(super) fn bytes(&self) -> u64 {
        let drawn: usize = self.drawn.iter().map(Vec::len).sum();
        let panels = self.drawn.iter().map(Vec::len).max().unwrap_or(0) as u64;
        let kept = self.points.min(MAX_CHART_POINTS + 7) as u64;
        let held = kept
            .saturating_mul(64 + 24 * drawn as u64)
            .saturating_mul(self.axes.len() as u64);
        let drawing = kept.saturating_mul(panels).saturating_mul(2 * 300);
        held.saturating_add(drawing)
    }

    /// Point `p`, in point order.
    pub(super) fn add(&mut self, keys: &[String], p: usize, values: &[toml::Value], stats: &[CellStats]) {
        for axis in &mut self.axes {
            let x = numeric(&values[axis.key]).expect("every point's value was a number");
            let (line, keep) = match &mut axis.lines {
                None => (0, p % self.stride == 0),
                Some(lines) => {
                    let label = line_label(keys, values, axis.key);
                    let line = lines
                        .iter()
                        .position(|(l, ..)| *l == label)
                        .expect("every line was found before");
                    let (_, members, seen) = &mut lines[line];
                    let member = *seen;
                    *seen += 1;
                    (line, member % self.stride == 0 || member + 1 == *members)
                }
            };
            if keep {
                let numbers = self
                    .drawn
                    .iter()
                    .flatten()
                    .map(|&(_, i)| [stats[i].mean, stats[i].p05, stats[i].p95])
                    .collect();
                axis.kept.push((line, x, numbers));
            }
        }
    }

    /// Draws the charts into `dir`; returns the files written.
    pub(super) fn draw(
        &self,
        dir: &Path,
        points: &Points,
        layout: &MetricLayout,
        metrics: &[usize],
        band: &str,
    ) -> Result<Vec<PathBuf>, JobError> {
        let mut written = Vec::new();
        let Some(date) = self.date else {
            return Ok(written);
        };
        for axis in &self.axes {
            let key = &points.keys[axis.key];
            let thinned = if self.stride > 1 {
                format!(
                    " {} of the {} points drawn (every {}th{}); sweep.csv has them all.",
                    axis.kept.len(),
                    self.points,
                    self.stride,
                    if axis.lines.is_some() {
                        " of each line, and its last"
                    } else {
                        ""
                    }
                )
            } else {
                String::new()
            };
            let mut first = 0;
            for (&metric, panels) in metrics.iter().zip(&self.drawn) {
                let m = layout.metric(metric);
                let n_panels = panels.len();
                let panels = panels
                    .iter()
                    .enumerate()
                    .map(|(q, &(partner, _))| {
                        let point = |(_, x, numbers): &(usize, f64, Vec<[f64; 3]>)| {
                            let [mean, p05, p95] = numbers[first + q];
                            (*x, mean, p05, p95)
                        };
                        let lines = match &axis.lines {
                            None => axis
                                .kept
                                .iter()
                                .map(|kept| Line {
                                    label: "each point (bar: 5th\u{2013}95th percentile)".to_string(),
                                    color_index: 0,
                                    points: vec![point(kept)],
                                })
                                .collect(),
                            Some(lines) => lines
                                .iter()
                                .enumerate()
                                .map(|(g, (label, ..))| {
                                    let mut pts: Vec<_> =
                                        axis.kept.iter().filter(|kept| kept.0 == g).map(point).collect();
                                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                                    Line {
                                        label: if label.is_empty() {
                                            "mean".to_string()
                                        } else {
                                            label.clone()
                                        },
                                        color_index: g,
                                        points: pts,
                                    }
                                })
                                .collect(),
                        };
                        PanelSpec {
                            title: partner.map(|p| layout.partner_labels[p].clone()),
                            y_desc: m.unit.to_string(),
                            lines,
                        }
                    })
                    .collect();
                first += n_panels;
                let figure = panel_figure(
                    format!("{} at {date} against {key}", m.name),
                    format!(
                        "All hosts ({ALL_HOSTS}). Mean across replicates; band (or bar): 5th\u{2013}95th percentiles {band}. {}.{thinned}",
                        m.description
                    ),
                    panels,
                    Some(key.clone()),
                    axis.x_range,
                );
                let stem = format!("{}-vs-{}", m.name, slug(key));
                written.extend(write_figure(dir, &stem, &figure)?);
            }
        }
        Ok(written)
    }
}

/// The label of the line point `values` is on in the charts against parameter `k`: the
/// other parameters' values.
fn line_label(keys: &[String], values: &[toml::Value], k: usize) -> String {
    keys.iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .map(|(j, other)| format!("{other} = {}", cell(&values[j])))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::outcomes::{last_quarter, resolve_metrics};
    use crate::analysis::parameters::Base;
    use crate::commands::sweep::all_outcomes;
    use crate::commands::sweep::points::tests::grid;

    /// The charts of `points` on the built-in baseline's alignment at its last quarter,
    /// every point added with outcome statistics that give its number as the mean.
    fn charted(points: &Points) -> Charts {
        let base = Base::builtin().unwrap();
        let layout = MetricLayout::new(&base.loaded.scenario);
        let metrics = resolve_metrics(&["alignment".to_string()], &layout, "the baseline").unwrap();
        let horizons = vec![last_quarter(&base.loaded.scenario)];
        let outcomes = all_outcomes(&layout, &metrics, &horizons);
        let mut charts = Charts::new(points, &outcomes, &layout, &metrics, &horizons);
        for p in 0..points.len() {
            let stats = vec![
                CellStats {
                    mean: p as f64,
                    ..CellStats::default()
                };
                outcomes.len()
            ];
            charts.add(&points.keys, p, &points.values(p), &stats);
        }
        charts
    }

    #[test]
    fn charts_keep_every_point_of_a_sweep_that_fits() {
        let points = grid(3000, &[1, 2, 3]);
        let charts = charted(&points);
        assert_eq!(charts.stride, 1);
        let [a, b] = &charts.axes[..] else { panic!("two axes") };
        // Against a: three lines (b's values) of 3,000 points; against b: 3,000 lines, so
        // each point on its own.
        assert_eq!(a.lines.as_ref().map(Vec::len), Some(3));
        assert!(b.lines.is_none());
        assert_eq!((a.kept.len(), b.kept.len()), (9000, 9000));
        let means: Vec<f64> = a.kept.iter().map(|k| k.2[0][0]).collect();
        assert_eq!(means, (0..9000).map(|p| p as f64).collect::<Vec<_>>());
    }

    #[test]
    fn charts_of_a_large_sweep_keep_a_bounded_subset_of_each_line() {
        let points = grid(12_000, &[1, 2]);
        let charts = charted(&points);
        assert_eq!(charts.stride, 3, "24,000 points within 10,000");
        let [a, b] = &charts.axes[..] else { panic!("two axes") };
        // Each line: every third point from its first, and its last.
        for line in 0..2 {
            let xs: Vec<f64> = a.kept.iter().filter(|k| k.0 == line).map(|k| k.1).collect();
            assert_eq!(xs.len(), 4001);
            assert_eq!((xs[0], xs[4000]), (0.0, 1.0), "the line spans the whole axis");
        }
        assert_eq!(a.x_range, (0.0, 1.0));
        // Scattered: every third point.
        assert!(b.lines.is_none());
        assert_eq!(b.kept.len(), 8000);
        assert!(a.kept.len() <= MAX_CHART_POINTS + 7 && b.kept.len() <= MAX_CHART_POINTS);
    }
}
