//! The dashboard names the container behind a published port: a real `dockerd` of the tests'
//! own (`engines.rs`), a busybox `httpd` container published on a port picked at run time,
//! and `portscope ui` pointed at that engine, opened in headless Chromium. The table's
//! container column and the detail panel must say what `who` says: the container, its engine
//! and image, the mapping and the process inside — for a container running when the page
//! loads and for one started while it is open.

use std::time::Duration;

use fantoccini::Locator;

use crate::engines::{IMAGE, Init, dockerd, unique};
use crate::harness::TempDir;
use crate::ui_browser_session::{Browser, Ui, have_browser};
use crate::ui_browser_util::row;

#[tokio::test]
async fn ui_browser_names_the_container_behind_a_published_port() {
    let test = "ui_browser_names_the_container_behind_a_published_port";
    let Some(e) = dockerd(test) else { return };
    let Some(paths) = have_browser(test) else {
        return;
    };
    let (port, web) = e.web(&unique("uiweb"), &[], Init::Httpd);
    let id = web.inspect("{{.Id}}");
    let missing = TempDir::new("no-podman");
    let podman = format!("unix://{}", missing.join("none.sock"));
    let ui = Ui::start_with(&[
        ("DOCKER_HOST", e.url().as_str()),
        ("CONTAINER_HOST", podman.as_str()),
    ]);
    let b = Browser::start(&paths).await;
    b.open(&ui, u32::from(port)).await;
    let column = b
        .js(&format!(
            "return document.querySelector('{}').children[7].textContent;",
            row(u32::from(port))
        ))
        .await;
    assert_eq!(column, format!("{} (docker)", web.name), "container column");

    b.client
        .find(Locator::Css(&format!(
            "{} td.process",
            row(u32::from(port))
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let wanted = [
        format!("{} (docker {}), image ", web.name, &id[..12]),
        format!("{IMAGE}, running"),
        format!("127.0.0.1:{port} → 80/tcp in the container"),
        "httpd[".to_string(),
    ];
    let all = wanted
        .iter()
        .map(|w| format!("t.indexOf({w:?}) >= 0"))
        .collect::<Vec<_>>()
        .join(" && ");
    b.wait_for(
        &format!(
            "(function (t) {{ return {all}; }})(document.querySelector('section#detail').textContent)"
        ),
        Duration::from_secs(10),
        &format!("the detail naming the container: {wanted:?}"),
    )
    .await;

    // A container started while the page is open: its row comes from the event stream, and
    // the container's name follows from the engine.
    let (later, second) = e.web(&unique("uiweb"), &[], Init::Httpd);
    b.wait_row(u32::from(later), Duration::from_secs(10)).await;
    b.wait_for(
        &format!(
            "document.querySelector('{}').children[7].textContent === {:?}",
            row(u32::from(later)),
            format!("{} (docker)", second.name)
        ),
        Duration::from_secs(10),
        "the live row naming the second container",
    )
    .await;
    b.close().await;
}
