//! The dashboard's files, embedded in the binary (no CDN: it works offline). `index.html`
//! gets the token filled in (HTML-escaped) when served; the script reads it from a `<meta>`
//! element, since the Content-Security-Policy allows no inline script.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The page, with `{{TOKEN}}` where the token goes.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// The script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The style sheet.
pub const APP_CSS: &str = include_str!("assets/app.css");

/// The page for this run's `token`.
pub fn index(token: &str) -> String {
    INDEX_HTML.replace("{{TOKEN}}", &escape_html(token))
}

/// Escape text for an HTML attribute value or element body.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An embedded file by its name under `/assets/`.
pub fn file(name: &str) -> Response {
    let (body, kind) = match name {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "portscope ui: no such file\n",
            )
                .into_response();
        }
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn token_is_escaped_into_the_page() {
        let page = index("a\"<b>&'");
        assert!(page.contains("content=\"a&quot;&lt;b&gt;&amp;&#39;\""));
        assert!(!page.contains("{{TOKEN}}"));
    }

    #[test]
    fn no_inline_script_and_no_inner_html() {
        for (name, text) in [("index.html", INDEX_HTML), ("app.js", APP_JS)] {
            for bad in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                assert!(!text.contains(bad), "{name} uses {bad}");
            }
        }
        // Every <script> loads a file; none carries code or an event attribute.
        assert!(INDEX_HTML.contains("<script src=\"/assets/app.js\" defer></script>"));
        assert_eq!(INDEX_HTML.matches("<script").count(), 1);
        assert!(!INDEX_HTML.to_ascii_lowercase().contains(" on"));
        assert!(!INDEX_HTML.contains("style="));
    }
}
