//! The bundled font: DejaVu Sans, registered once as the `sans-serif` family, so charts
//! render on machines without any fonts installed.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The bundled font could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the bundled font assets/fonts/DejaVuSans.ttf could not be read")]
pub struct FontError;

/// The font family every text on the charts uses.
pub(crate) const FONT: &str = "sans-serif";
/// DejaVu Sans, shipped with the crate (see `assets/fonts/DejaVuSans-LICENSE.txt`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static FONT_REGISTERED: OnceLock<Result<(), FontError>> = OnceLock::new();

/// Registers the bundled font as `sans-serif` (once per process).
pub(crate) fn ensure_font() -> Result<(), FontError> {
    *FONT_REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).map_err(|_| FontError))
}
