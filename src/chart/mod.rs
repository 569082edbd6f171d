//! The chart toolkit: figures described as plain data, drawn as PNG and SVG.
//!
//! A figure ([`Figure`]: title and subtitle (the header), legend, panels of series with
//! their bands) is first described as data and then drawn by one function that is
//! generic over the plotters backend ([`draw`]), so the PNG and the SVG of a chart come
//! from the same code and the same description. [`panel_figure`] builds the common case,
//! panels of labelled lines with bands sharing one legend; [`bars`] draws horizontal bar
//! charts with intervals.
//!
//! Text uses the bundled DejaVu Sans ([`font`]), so charts do not depend on the fonts
//! installed. Nothing here knows a scenario, a metric or a command: the run's figures
//! ([`crate::output::figures`]) and the analyses' figures describe what to draw with
//! these types.

mod bars;
mod draw;
mod figure;
mod font;
pub mod interactive;
mod render;

pub use bars::{write_bars, Bar, BarFigure, BarPanel};
pub use figure::{
    palette, panel_figure, sane_range, y_range, ChartError, Figure, LegendEntry, Line, Panel, PanelSpec, Series,
    BAND_ALPHA, GRID, GRID_COLUMNS, INK, MIN_PANEL_ROW_HEIGHT, PANEL_FIGURE_SIZE, SINGLE_FIGURE_SIZE, SUBTLE,
};
pub use font::FontError;
pub use render::{render_png, render_svg, write_figure};
