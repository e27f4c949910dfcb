//! Terminal rendering shared by the commands: located diagnostics as miette
//! reports, in colour only when stderr is a terminal.

use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};

/// Renders a diagnostic with its snippet, `file:line:col` and help.
pub(crate) fn diagnostic(d: &dyn miette::Diagnostic) -> String {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    match handler.render_report(&mut out, d) {
        Ok(()) => out,
        Err(_) => format!("{d}\n"),
    }
}
