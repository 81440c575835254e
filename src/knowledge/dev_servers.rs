//! Dev servers that do not take their port from `$PORT`, and how to give it to them.
//!
//! `portscope run` exports `PORT` and `HOST`, but many dev servers never read them: Vite
//! always starts on 5173, `python -m http.server` on 8000, Django on 8000. When the child
//! listens somewhere else than the port it was given, `run` looks the command up here to say
//! which flag (or argument) sets the port, and shows the corrected command.
//!
//! General knowledge: documented command-line interfaces and defaults of each tool, not a
//! reading of this machine. Nothing here reads files, the environment or sockets.

use serde::Serialize;

/// Source label for this table.
pub const DEV_SERVERS_SOURCE: &str =
    "general knowledge: the documented command-line flags and defaults of common dev servers";

/// How a server is told its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PortArg {
    /// A flag followed by a value: `--port $PORT`, `-S $HOST:$PORT`.
    Flag {
        /// The flag (`--port`, `-p`, `-S`).
        flag: &'static str,
        /// Its value, with `$PORT`/`$HOST` for portscope to fill in.
        value: &'static str,
    },
    /// An argument right after a word: `http.server $PORT`, `runserver $HOST:$PORT`.
    After {
        /// The word the argument follows.
        word: &'static str,
        /// The argument, with `$PORT`/`$HOST` for portscope to fill in.
        value: &'static str,
    },
}

impl PortArg {
    /// The arguments as written on a command line (`["--port", "$PORT"]`).
    pub fn words(&self) -> [&'static str; 2] {
        match *self {
            PortArg::Flag { flag, value } => [flag, value],
            PortArg::After { word, value } => [word, value],
        }
    }
}

/// A dev server, how it is recognised, and how its port is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DevServer {
    /// Its name, as people say it (`Vite`, `Django runserver`).
    pub name: &'static str,
    /// How it is recognised in a command line: the first entry is the program (its file
    /// name, after launchers such as `npx`, `node`, `python3 -m`, `bundle exec`), the others
    /// must follow in this order; `a|b` accepts either word.
    #[serde(skip)]
    pub words: &'static [&'static str],
    /// The port it uses when none is given.
    pub default_port: Option<u16>,
    /// The environment variable it documents for its port, if any (`PORT` when it
    /// honours `$PORT` — then a listener elsewhere means a setting overrides it).
    pub port_env: Option<&'static str>,
    /// How to set the port.
    pub port_arg: PortArg,
    /// Arguments worth adding with the port (`--strictPort`: fail instead of moving on).
    pub extra: &'static [&'static str],
    /// The flag that sets the listening address, when it has one.
    pub host_flag: Option<&'static str>,
    /// A complete example, for when the command line cannot be rewritten.
    pub example: &'static str,
}

const fn flag(
    name: &'static str,
    words: &'static [&'static str],
    default_port: u16,
    flag: &'static str,
    host_flag: Option<&'static str>,
    example: &'static str,
) -> DevServer {
    DevServer {
        name,
        words,
        default_port: Some(default_port),
        port_env: None,
        port_arg: PortArg::Flag {
            flag,
            value: "$PORT",
        },
        extra: &[],
        host_flag,
        example,
    }
}

const fn reads(env: &'static str, s: DevServer) -> DevServer {
    DevServer {
        port_env: Some(env),
        ..s
    }
}

const fn with(arg: PortArg, s: DevServer) -> DevServer {
    DevServer { port_arg: arg, ..s }
}

const fn extra(extra: &'static [&'static str], s: DevServer) -> DevServer {
    DevServer { extra, ..s }
}

#[rustfmt::skip]
static DEV_SERVERS: &[DevServer] = &[
    extra(&["--strictPort"], flag("Vite", &["vite"], 5173, "--port", Some("--host"),
        "vite --port $PORT --strictPort --host $HOST")),
    reads("PORT", flag("Next.js", &["next", "dev|start"], 3000, "-p", Some("-H"),
        "next dev -p $PORT -H $HOST")),
    with(PortArg::After { word: "http.server", value: "$PORT" },
        flag("python -m http.server", &["http.server"], 8000, "", Some("--bind"),
        "python3 -m http.server $PORT --bind $HOST")),
    with(PortArg::After { word: "runserver", value: "$HOST:$PORT" },
        flag("Django runserver", &["manage.py|django-admin", "runserver"], 8000, "", None,
        "python3 manage.py runserver $HOST:$PORT")),
    reads("FLASK_RUN_PORT", flag("Flask", &["flask", "run"], 5000, "--port", Some("--host"),
        "flask run --port $PORT --host $HOST")),
    reads("UVICORN_PORT", flag("Uvicorn", &["uvicorn"], 8000, "--port", Some("--host"),
        "uvicorn app:app --port $PORT --host $HOST")),
    reads("PORT", with(PortArg::Flag { flag: "--bind", value: "$HOST:$PORT" },
        flag("Gunicorn", &["gunicorn"], 8000, "", None, "gunicorn --bind $HOST:$PORT app:app"))),
    reads("PORT", flag("Rails", &["rails", "server|s"], 3000, "-p", Some("-b"),
        "bin/rails server -p $PORT -b $HOST")),
    flag("Jekyll", &["jekyll", "serve|server|s"], 4000, "--port", Some("--host"),
        "bundle exec jekyll serve --port $PORT --host $HOST"),
    flag("Hugo", &["hugo", "server|serve"], 1313, "--port", Some("--bind"),
        "hugo server --port $PORT --bind $HOST"),
    flag("webpack-dev-server", &["webpack-dev-server"], 8080, "--port", Some("--host"),
        "webpack-dev-server --port $PORT --host $HOST"),
    flag("webpack serve", &["webpack|webpack-cli", "serve"], 8080, "--port", Some("--host"),
        "webpack serve --port $PORT --host $HOST"),
    flag("Angular ng serve", &["ng", "serve|s"], 4200, "--port", Some("--host"),
        "ng serve --port $PORT --host $HOST"),
    flag("Gatsby", &["gatsby", "develop"], 8000, "-p", Some("-H"),
        "gatsby develop -p $PORT -H $HOST"),
    flag("Astro", &["astro", "dev|preview"], 4321, "--port", Some("--host"),
        "astro dev --port $PORT --host $HOST"),
    with(PortArg::Flag { flag: "-S", value: "$HOST:$PORT" },
        flag("PHP built-in server", &["php", "-S"], 8000, "", None, "php -S $HOST:$PORT")),
    reads("PORT", flag("Nuxt", &["nuxi|nuxt", "dev|preview"], 3000, "--port", Some("--host"),
        "nuxi dev --port $PORT --host $HOST")),
    flag("Parcel", &["parcel"], 1234, "--port", Some("--host"),
        "parcel index.html --port $PORT --host $HOST"),
    reads("SBCONFIG_PORT", flag("Storybook", &["storybook|start-storybook", "dev"], 6006, "-p",
        Some("--host"), "storybook dev -p $PORT --host $HOST")),
    reads("STREAMLIT_SERVER_PORT", with(PortArg::Flag { flag: "--server.port", value: "$PORT" },
        flag("Streamlit", &["streamlit", "run"], 8501, "", Some("--server.address"),
        "streamlit run app.py --server.port $PORT --server.address $HOST"))),
    flag("Jupyter", &["jupyter-lab|jupyter-notebook|jupyter-server"], 8888, "--port", Some("--ip"),
        "jupyter lab --port $PORT --ip $HOST"),
    flag("Jupyter", &["jupyter", "lab|notebook|server"], 8888, "--port", Some("--ip"),
        "jupyter lab --port $PORT --ip $HOST"),
    with(PortArg::Flag { flag: "--dev-addr", value: "$HOST:$PORT" },
        flag("MkDocs", &["mkdocs", "serve"], 8000, "", None, "mkdocs serve --dev-addr $HOST:$PORT")),
    flag("Zola", &["zola", "serve"], 1111, "--port", Some("--interface"),
        "zola serve --port $PORT --interface $HOST"),
    flag("mdBook", &["mdbook", "serve"], 3000, "--port", Some("--hostname"),
        "mdbook serve --port $PORT --hostname $HOST"),
    flag("Hexo", &["hexo", "server|s"], 4000, "-p", Some("-i"), "hexo server -p $PORT -i $HOST"),
    flag("Eleventy", &["eleventy"], 8080, "--port", None, "eleventy --serve --port $PORT"),
    flag("Docusaurus", &["docusaurus", "start|serve"], 3000, "--port", Some("--host"),
        "docusaurus start --port $PORT --host $HOST"),
    flag("Vue CLI", &["vue-cli-service", "serve"], 8080, "--port", Some("--host"),
        "vue-cli-service serve --port $PORT --host $HOST"),
    flag("Expo", &["expo", "start"], 8081, "--port", None, "expo start --port $PORT"),
    reads("PORT", flag("http-server", &["http-server"], 8080, "-p", Some("-a"),
        "http-server -p $PORT -a $HOST")),
    with(PortArg::Flag { flag: "-l", value: "$PORT" },
        flag("serve", &["serve"], 3000, "", None, "serve -l $PORT")),
    flag("Deno serve", &["deno", "serve"], 8000, "--port", Some("--host"),
        "deno serve --port $PORT --host $HOST main.ts"),
    flag("Ruby httpd (un.rb)", &["httpd"], 8080, "-p", Some("-b"),
        "ruby -run -e httpd . -p $PORT -b $HOST"),
    with(PortArg::Flag { flag: "--listen", value: "$HOST:$PORT" },
        flag("Caddy file-server", &["caddy", "file-server"], 80, "", None,
        "caddy file-server --listen $HOST:$PORT")),
];

/// Every entry of the table.
pub fn all() -> &'static [DevServer] {
    DEV_SERVERS
}

/// Words that start a program without being it: package runners, interpreters, wrappers.
const LAUNCHERS: &[&str] = &[
    "node",
    "nodejs",
    "npx",
    "pnpx",
    "bunx",
    "bun",
    "yarn",
    "pnpm",
    "npm",
    "exec",
    "run",
    "run-script",
    "dlx",
    "x",
    "uv",
    "uvx",
    "poetry",
    "pipenv",
    "pdm",
    "hatch",
    "rye",
    "env",
    "bundle",
    "ruby",
    "sudo",
    "nice",
    "nohup",
    "time",
    "cross-env",
    "dotenv",
    "ts-node",
    "tsx",
    "--",
];

/// A word's file name without a script extension: `node_modules/.bin/vite` → `vite`,
/// `…/vite/bin/vite.js` → `vite`.
fn base(word: &str) -> &str {
    let name = word.rsplit('/').next().unwrap_or(word);
    [".js", ".mjs", ".cjs", ".ts"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}

fn is_launcher(word: &str) -> bool {
    let b = base(word);
    LAUNCHERS.contains(&b)
        || b.starts_with("python")
        || b.starts_with("pypy")
        || (b.contains('=') && !b.starts_with('-'))
}

fn word_is(pattern: &str, word: &str) -> bool {
    pattern.split('|').any(|p| p == base(word) || p == word)
}

/// Whether `server` is what `words` runs: its program (see [`DevServer::words`]) comes
/// after nothing but launchers and options, and its other words follow in order.
fn matches(server: &DevServer, words: &[String]) -> bool {
    let Some((first, rest)) = server.words.split_first() else {
        return false;
    };
    let Some(start) = words.iter().position(|w| word_is(first, w)) else {
        return false;
    };
    if !words[..start]
        .iter()
        .all(|w| is_launcher(w) || w.starts_with('-'))
    {
        return false; // another program comes first: `first` is one of its arguments
    }
    let mut it = words[start + 1..].iter();
    rest.iter().all(|p| it.any(|w| word_is(p, w)))
}

/// The dev server a command line runs, if the table knows it.
pub fn find(words: &[String]) -> Option<&'static DevServer> {
    DEV_SERVERS.iter().find(|s| matches(s, words))
}

/// `command` rewritten to pass the port as `server` expects (`$PORT`/`$HOST` left for
/// `run` to fill in): an existing value is replaced, else the flag is added (after `--` for
/// `npm run`, which keeps the rest for itself otherwise). `None` when the command does not
/// contain what the argument must follow (the server runs under a script).
pub fn rewrite(command: &[String], arg: PortArg, extra: &[&str]) -> Option<Vec<String>> {
    let mut out = command.to_vec();
    let [key, value] = arg.words();
    let is_key = |w: &String| match arg {
        PortArg::Flag { .. } => w == key,
        PortArg::After { .. } => word_is(key, w),
    };
    if let PortArg::Flag { flag, .. } = arg
        && let Some(i) = out
            .iter()
            .position(|w| w.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
    {
        out[i] = format!("{flag}={value}");
        return Some(out);
    }
    match (arg, out.iter().position(is_key)) {
        (_, Some(i)) => {
            let next = out.get(i + 1);
            let replace = match arg {
                PortArg::Flag { .. } => next.is_some_and(|n| !n.starts_with('-')),
                PortArg::After { .. } => next.is_some_and(|n| looks_like_address(n)),
            };
            if replace {
                out[i + 1] = value.to_string();
            } else {
                out.insert(i + 1, value.to_string());
            }
        }
        (PortArg::After { .. }, None) => return None,
        (PortArg::Flag { .. }, None) => {
            let npm_run = out.first().is_some_and(|w| base(w) == "npm")
                && out
                    .iter()
                    .any(|w| matches!(w.as_str(), "run" | "run-script" | "start"));
            if npm_run && !out.iter().any(|w| w == "--") {
                out.push("--".into());
            }
            out.push(key.to_string());
            out.push(value.to_string());
        }
    }
    for e in extra {
        if !out.iter().any(|w| w == e) {
            out.push((*e).to_string());
        }
    }
    Some(out)
}

/// `8000`, `0.0.0.0:8000`, `[::1]:8000`, `$PORT`: a port or address argument.
fn looks_like_address(word: &str) -> bool {
    let port = word.rsplit(':').next().unwrap_or(word);
    (!port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())) || word.contains("$PORT")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn w(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    fn name(line: &str) -> Option<&'static str> {
        find(&w(line)).map(|s| s.name)
    }

    #[test]
    fn recognises_servers_behind_launchers() {
        assert_eq!(name("vite"), Some("Vite"));
        assert_eq!(name("npx vite --open"), Some("Vite"));
        assert_eq!(
            name("node /app/node_modules/.bin/vite --host"),
            Some("Vite")
        );
        assert_eq!(
            name("node /app/node_modules/vite/bin/vite.js"),
            Some("Vite")
        );
        assert_eq!(
            name("python3 -m http.server"),
            Some("python -m http.server")
        );
        assert_eq!(
            name("/usr/bin/python3.11 -u manage.py runserver"),
            Some("Django runserver")
        );
        assert_eq!(name("uv run flask --app x run"), Some("Flask"));
        assert_eq!(name("bundle exec jekyll serve"), Some("Jekyll"));
        assert_eq!(name("bin/rails s"), Some("Rails"));
        assert_eq!(name("php -S localhost:8000"), Some("PHP built-in server"));
        assert_eq!(name("npx next dev"), Some("Next.js"));
        assert_eq!(name("hugo server -D"), Some("Hugo"));
        assert_eq!(name("ng serve"), Some("Angular ng serve"));
    }

    #[test]
    fn does_not_guess() {
        assert_eq!(name("npm run dev"), None);
        assert_eq!(name("python3 app.py"), None);
        assert_eq!(name("myapp serve"), None, "`serve` is an argument here");
        assert_eq!(name("rails console"), None);
        assert_eq!(name("php -r echo"), None);
        assert_eq!(name(""), None);
    }

    #[test]
    fn every_entry_is_complete() {
        for s in all() {
            assert!(!s.words.is_empty() && !s.example.is_empty(), "{}", s.name);
            assert!(
                s.example.contains("$PORT") || s.port_env.is_some(),
                "{}",
                s.name
            );
            let [key, value] = s.port_arg.words();
            assert!(!key.is_empty() && value.contains("$PORT"), "{}", s.name);
        }
    }

    fn rw(line: &str) -> Option<String> {
        let s = find(&w(line)).unwrap();
        rewrite(&w(line), s.port_arg, s.extra).map(|v| v.join(" "))
    }

    #[test]
    fn rewrites_the_command() {
        assert_eq!(
            rw("npx vite").unwrap(),
            "npx vite --port $PORT --strictPort"
        );
        assert_eq!(
            rw("vite --port 5173").unwrap(),
            "vite --port $PORT --strictPort"
        );
        assert_eq!(
            rw("vite --port=5173 --strictPort").unwrap(),
            "vite --port=$PORT --strictPort"
        );
        assert_eq!(
            rw("python3 -m http.server").unwrap(),
            "python3 -m http.server $PORT"
        );
        assert_eq!(
            rw("python3 -m http.server 8000 --bind ::1").unwrap(),
            "python3 -m http.server $PORT --bind ::1"
        );
        assert_eq!(
            rw("python3 manage.py runserver 0.0.0.0:8000").unwrap(),
            "python3 manage.py runserver $HOST:$PORT"
        );
        assert_eq!(
            rw("php -S localhost:8000 -t public").unwrap(),
            "php -S $HOST:$PORT -t public"
        );
        let vite = find(&w("vite")).unwrap();
        assert_eq!(
            rewrite(&w("npm run dev"), vite.port_arg, vite.extra)
                .unwrap()
                .join(" "),
            "npm run dev -- --port $PORT --strictPort"
        );
        assert_eq!(
            rewrite(&w("pnpm dev"), vite.port_arg, vite.extra)
                .unwrap()
                .join(" "),
            "pnpm dev --port $PORT --strictPort"
        );
        let http = find(&w("python3 -m http.server")).unwrap();
        assert_eq!(rewrite(&w("make serve"), http.port_arg, http.extra), None);
    }
}
