//! `static DIR`: files through tower-http's `ServeDir` (it refuses `..`, answers ranges and
//! guesses MIME types); a directory without `index.html` gets a listing like python's
//! `http.server`, every name HTML-escaped and its link percent-encoded. The listing resolves
//! paths itself, as strictly: percent-decoded, any `..` component or NUL or backslash is a
//! 404, so nothing outside DIR is ever read.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

/// Entries a listing shows at most.
const MAX_ENTRIES: usize = 10_000;

/// Listings need the directory; ServeDir's fallback is the listing.
#[derive(Debug)]
struct Files {
    root: PathBuf,
}

/// The router for `static DIR`. On a loopback address, requests must name the server by
/// an IP address or `localhost` (DNS rebinding would otherwise let any web page read DIR).
pub(super) fn router(dir: &Path, local: SocketAddr) -> Router {
    let files = Arc::new(Files {
        root: dir.to_path_buf(),
    });
    let serve = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .fallback(listing.with_state(files));
    let router = Router::new().fallback_service(serve);
    if local.ip().is_loopback() {
        router.layer(middleware::from_fn(host_check))
    } else {
        router
    }
}

/// 403 unless the Host header (when there is one) is an IP address or a `localhost` name.
async fn host_check(req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("?"));
    if host.is_none_or(host_ok) {
        return next.run(req).await;
    }
    let mut r = (
        StatusCode::FORBIDDEN,
        "portscope serve static: refused: the Host header names neither an IP address nor \
         localhost (DNS rebinding?)\n",
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `127.0.0.1:8000`, `[::1]:8000`, `localhost`, `app.localhost:8000`: a name DNS rebinding
/// cannot use.
fn host_ok(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split_once(']')
                .is_some_and(|(a, _)| a.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".localhost")
}

/// ServeDir found no file: a listing when the path is a directory, else 404.
async fn listing(State(files): State<Arc<Files>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let not_found = || {
        let mut r = (StatusCode::NOT_FOUND, "404 not found\n").into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if !path.ends_with('/') {
        return not_found();
    }
    let Some(dir) = resolve(&files.root, &path) else {
        return not_found();
    };
    let Ok(mut read) = tokio::fs::read_dir(&dir).await else {
        return not_found();
    };
    let mut names = Vec::new();
    while let Ok(Some(entry)) = read.next_entry().await {
        if names.len() >= MAX_ENTRIES {
            break;
        }
        let is_dir = entry.file_type().await.is_ok_and(|t| t.is_dir());
        names.push((entry.file_name().as_bytes().to_vec(), is_dir));
    }
    let display = String::from_utf8_lossy(&percent_decode(&path)).into_owned();
    let mut r = listing_html(&display, &names).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    r
}

/// The file-system path for a URL path under `root`, or `None` when the path tries to
/// leave it (`..`), or holds a NUL or a backslash.
pub(super) fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path);
    if decoded.iter().any(|&b| b == 0 || b == b'\\') {
        return None;
    }
    let mut out = root.to_path_buf();
    for part in decoded.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            name => out.push(OsStr::from_bytes(name)),
        }
    }
    Some(out)
}

/// `%XX` decoded (a `%` not followed by two hex digits stays as it is).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|&h| (h as char).to_digit(16));
        if c == b'%'
            && let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2))
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Every byte but RFC 3986's unreserved ones as `%XX`.
fn percent_encode(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text safe inside HTML elements and attribute values.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A directory listing like python's `http.server`: `path` is the URL path shown in the
/// title, `entries` the raw names with whether each is a directory. Names are sorted
/// case-insensitively, escaped, and linked percent-encoded.
pub fn listing_html(path: &str, entries: &[(Vec<u8>, bool)]) -> String {
    let mut sorted: Vec<&(Vec<u8>, bool)> = entries.iter().collect();
    sorted.sort_by_key(|(name, _)| name.to_ascii_lowercase());
    let title = html_escape(&format!("Directory listing for {path}"));
    let mut out = format!(
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n<hr>\n<ul>\n"
    );
    for (name, is_dir) in sorted {
        let slash = if *is_dir { "/" } else { "" };
        let shown = html_escape(&String::from_utf8_lossy(name));
        out.push_str(&format!(
            "<li><a href=\"{}{slash}\">{shown}{slash}</a></li>\n",
            percent_encode(name)
        ));
    }
    out.push_str("</ul>\n<hr>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn listing_escapes_names() {
        let html = listing_html(
            "/<b>/",
            &[
                (b"<img src=x>.txt".to_vec(), false),
                (b"a \"q\" & 'b'".to_vec(), false),
                (b"Sub".to_vec(), true),
            ],
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;img src=x&gt;.txt</a>"), "{html}");
        assert!(html.contains("href=\"%3Cimg%20src%3Dx%3E.txt\""), "{html}");
        assert!(
            html.contains("a &quot;q&quot; &amp; &#x27;b&#x27;"),
            "{html}"
        );
        assert!(html.contains("<a href=\"Sub/\">Sub/</a>"), "{html}");
        let a = html.find("a &quot;").unwrap();
        let s = html.find("Sub/").unwrap();
        assert!(a < s, "sorted");
    }

    #[test]
    fn hosts_rebinding_cannot_use() {
        for ok in [
            "127.0.0.1:8000",
            "[::1]:80",
            "localhost",
            "LOCALHOST:1",
            "a.localhost:9",
            "10.0.0.1",
        ] {
            assert!(host_ok(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8000",
            "127.0.0.1.nip.io",
            "[::1",
            "localhost.evil",
        ] {
            assert!(!host_ok(bad), "{bad}");
        }
    }

    #[test]
    fn resolve_never_leaves_the_root() {
        let root = Path::new("/srv/www");
        assert_eq!(resolve(root, "/a/b/"), Some(PathBuf::from("/srv/www/a/b")));
        assert_eq!(
            resolve(root, "/a%20b/"),
            Some(PathBuf::from("/srv/www/a b"))
        );
        for bad in [
            "/../",
            "/a/../../",
            "/%2e%2e/",
            "/%2E%2E/etc/",
            "/a/%2e%2e%2f%2e%2e/",
            "/%00/",
            "/..%5c..%5c",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
        assert_eq!(percent_decode("%4"), b"%4");
        assert_eq!(percent_decode("%zz%41"), b"%zzA");
    }
}
