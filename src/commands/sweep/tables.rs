//! What a sweep writes point by point: `sweep.csv`, and the summary it prints.

use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use super::points::Points;
use super::{cell, SUMMARY_POINTS};
use crate::analysis::outcomes::Outcome;
use crate::format::{number, short};
use crate::metrics::{MetricLayout, ALL_HOSTS};
use crate::stats::CellStats;
use crate::time::Quarter;

/// `sweep.csv`, written a point at a time.
pub(super) struct SweepTable {
    writer: csv::Writer<BufWriter<fs::File>>,
    root_n: f64,
    row: Vec<String>,
}

impl SweepTable {
    /// Creates the file and writes its header.
    pub(super) fn create(path: &Path, points: &Points, replicates: u64) -> io::Result<SweepTable> {
        let mut writer = csv::Writer::from_writer(BufWriter::new(fs::File::create(path)?));
        let mut header = vec!["point".to_string()];
        header.extend(points.keys.iter().cloned());
        header.extend(
            [
                "metric", "host", "partner", "date", "mean", "sd", "p05", "p50", "p95", "se",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        writer.write_record(&header)?;
        Ok(SweepTable {
            writer,
            root_n: (replicates as f64).sqrt(),
            row: Vec::new(),
        })
    }

    /// Point `p`'s rows: one per outcome.
    pub(super) fn write(
        &mut self,
        p: usize,
        values: &[toml::Value],
        outcomes: &[Outcome],
        stats: &[CellStats],
        layout: &MetricLayout,
    ) -> io::Result<()> {
        let number_text = (p + 1).to_string();
        let values: Vec<String> = values.iter().map(cell).collect();
        for (outcome, s) in outcomes.iter().zip(stats) {
            let row = &mut self.row;
            row.clear();
            row.push(number_text.clone());
            row.extend(values.iter().cloned());
            row.extend([
                layout.metric(outcome.metric).name.clone(),
                layout.host_labels[outcome.host].clone(),
                layout.partner_label(outcome.partner).to_string(),
                outcome.date.to_string(),
                number(s.mean),
                number(s.sd),
                number(s.p05),
                number(s.p50),
                number(s.p95),
                number(s.sd / self.root_n),
            ]);
            self.writer.write_record(&*row)?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> io::Result<()> {
        self.writer.flush()?;
        let file = self.writer.into_inner().map_err(|e| e.into_error())?;
        file.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }
}

/// The printed summary: the first metric, hosts together, at the last horizon, for the
/// first [`SUMMARY_POINTS`] points (the rest are counted).
pub(super) struct Summary {
    /// The outcomes shown, as indices into the outcomes.
    shown: Vec<usize>,
    last: Option<Quarter>,
    table: Vec<Vec<String>>,
    points: usize,
}

impl Summary {
    pub(super) fn new(points: &Points, outcomes: &[Outcome], layout: &MetricLayout, metrics: &[usize]) -> Summary {
        let last = outcomes.iter().map(|o| o.date).max();
        let mut summary = Summary {
            shown: Vec::new(),
            last,
            table: Vec::new(),
            points: 0,
        };
        let Some(&metric) = metrics.first() else {
            return summary;
        };
        summary.shown = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| o.metric == metric && o.host == layout.n_rows() - 1 && Some(o.date) == last)
            .map(|(i, _)| i)
            .collect();
        let mut header = vec!["point".to_string()];
        header.extend(points.keys.iter().cloned());
        for &i in &summary.shown {
            let o = &outcomes[i];
            header.push(match o.partner {
                Some(p) => format!(
                    "{} {ALL_HOSTS} {}",
                    layout.metric(metric).name,
                    layout.partner_labels[p]
                ),
                None => format!("{} {ALL_HOSTS}", layout.metric(metric).name),
            });
        }
        summary.table.push(header);
        summary
    }

    /// Point `p`, in point order.
    pub(super) fn add(&mut self, p: usize, values: &[toml::Value], stats: &[CellStats]) {
        self.points += 1;
        if self.table.is_empty() || p >= SUMMARY_POINTS {
            return;
        }
        let mut row = vec![(p + 1).to_string()];
        row.extend(values.iter().map(cell));
        row.extend(self.shown.iter().map(|&i| short(stats[i].mean)));
        self.table.push(row);
    }

    pub(super) fn text(&self) -> String {
        if self.table.is_empty() {
            return String::new();
        }
        let widths: Vec<usize> = (0..self.table[0].len())
            .map(|c| self.table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut text = format!(
            "means at {} (all of them, with sd and percentiles, in sweep.csv):\n",
            self.last.map_or(String::new(), |d| d.to_string())
        );
        for row in &self.table {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:>w$}", w = *w))
                .collect();
            text.push_str(&format!("  {}\n", line.join("  ")));
        }
        if self.points > SUMMARY_POINTS {
            text.push_str(&format!("  ... and {} more points\n", self.points - SUMMARY_POINTS));
        }
        text
    }
}
