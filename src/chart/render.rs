//! A figure written as PNG and SVG, drawn by the same code from the same description.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::draw::{draw_figure, PNG, SVG};
use super::figure::{ChartError, Figure};

/// Writes a figure as `dir/stem.png` and `dir/stem.svg`; returns both paths.
pub fn write_figure(dir: &Path, stem: &str, figure: &Figure) -> Result<Vec<PathBuf>, ChartError> {
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    render_png(&png, figure)?;
    render_svg(&svg, figure)?;
    Ok(vec![png, svg])
}

pub fn render_png(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = BitMapBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, PNG).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

pub fn render_svg(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let fail = |message: String| ChartError {
        path: path.to_path_buf(),
        message,
    };
    let root = SVGBackend::new(path, figure.size).into_drawing_area();
    draw_figure(&root, figure, SVG).map_err(|e| fail(e.to_string()))?;
    root.present().map_err(|e| fail(format!("saving the image: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::figure::{panel_figure, Line, PanelSpec};

    #[test]
    fn a_missing_folder_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let figure = panel_figure(
            "title".into(),
            "subtitle".into(),
            vec![PanelSpec {
                title: None,
                y_desc: "y".into(),
                lines: vec![Line {
                    label: "a".into(),
                    color_index: 0,
                    points: vec![(2024.0, 1.0, 0.5, 1.5), (2025.0, 2.0, 1.5, 2.5)],
                }],
            }],
            None,
            (2024.0, 2025.0),
        );
        let written = write_figure(dir.path(), "ok", &figure).expect("drawn");
        assert_eq!(written.len(), 2);
        let missing = dir.path().join("nope");
        let err = write_figure(&missing, "x", &figure).expect_err("no folder");
        assert!(err.path.starts_with(&missing));
    }
}
