//! The client's side of a diagnosis: the environment it runs with (its own, or a running
//! process's through `--env-from`) and where that environment's proxy variables send it.

use super::Context;
use crate::error::Result;
use crate::target::Target;

/// The environment the failing client sees: `pid`'s, else portscope's own (it runs in the
/// client's shell).
pub(super) fn client_env(env_from: Option<u32>) -> Result<Vec<(String, String)>> {
    Ok(match env_from {
        Some(pid) => crate::sys::environ::of_pid(pid).map_err(|e| match e {
            crate::error::Error::Io { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                crate::error::Error::bad_input(
                    format!("--env-from {pid}: no process with that pid"),
                    "expected the pid of the running client (see `portscope who TARGET` or `ps`)",
                )
            }
            other => other,
        })?,
        None => crate::sys::environ::own(),
    })
}

/// For a URL target: which clients the environment sends to a proxy instead of the port.
pub(super) fn proxy_routes(ctx: &mut Context, env: &[(String, String)]) {
    let Target::Addr {
        scheme: Some(scheme),
        host,
        ..
    } = &ctx.target
    else {
        return;
    };
    ctx.proxies = crate::knowledge::proxy::routes(env, scheme, &host.to_string());
    ctx.no_proxy = ["no_proxy", "NO_PROXY"].iter().find_map(|name| {
        env.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .cloned()
    });
}
