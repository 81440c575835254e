//! The traffic tools' engines: test servers (`serve`), a relay (`forward`), a loopback capture
//! (`tap`) and a load measurer (`bench`). Commands set them up and hand what they report as
//! [`Line`]s to `render`; the socket calls that need more than std/tokio live in `sys`.

pub mod bench;
pub mod forward;
pub mod serve;
pub mod tap;

use serde::Serialize;

/// Something a running traffic tool reports as it happens (printed at once, one line each).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Line {
    /// From `serve`.
    Serve(serve::ServeLine),
    /// From `forward`.
    Forward(forward::ForwardLine),
    /// From `tap`.
    Tap(tap::TapLine),
    /// From `bench`.
    Bench(bench::BenchLine),
}
