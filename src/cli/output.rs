//! Writing to stdout without dying when the reader goes away: `testmesh run … | head` must not
//! panic on a closed pipe; the run goes on and its exit code still tells the outcome.

use std::io::Write;

/// Writes `text` and a newline to stdout; a closed pipe or a full disk is ignored.
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Writes `text` as it is to stdout; errors are ignored as in [`line`].
pub fn text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
}
