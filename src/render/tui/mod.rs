//! The live terminal view of `watch` (ratatui over crossterm).
//!
//! STUB: being written.

use crate::commands::watch::LiveFeed;
use crate::error::Result;

/// Run the view until the person quits (q, Ctrl+C) or the feed is finished.
pub fn run(feed: &mut dyn LiveFeed) -> Result<()> {
    while !feed.finished() {
        let _ = feed.refresh()?;
        std::thread::sleep(feed.interval());
    }
    Ok(())
}
