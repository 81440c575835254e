//! `probe` of the services family (src/probe/services.rs) against real servers from Debian
//! packages on run-time ports: slapd (LDAP), smbd (SMB2) and memcached speaking only its
//! binary protocol, with and without SASL.

use crate::probe::{detail, probe_one};
use crate::servers;

#[test]
fn slapd_is_openldap_with_its_naming_context() {
    let Some(s) = servers::slapd() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "ldap", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(id["product"], "OpenLDAP", "{r:#}");
    assert_eq!(
        detail(&id, "naming_contexts"),
        Some("dc=portscope,dc=test"),
        "{r:#}"
    );
    assert_eq!(detail(&id, "ldap_versions"), Some("3"), "{r:#}");
    assert_eq!(
        r["probes"].as_array().unwrap().last().unwrap(),
        "ldap-rootdse",
        "{r:#}"
    );
}

#[test]
fn smbd_is_smb_with_its_dialect_and_signing() {
    for signing in [false, true] {
        let Some(s) = servers::smbd(signing) else {
            return;
        };
        let (r, id) = probe_one(&s);
        assert_eq!(id["protocol"], "smb", "{r:#}");
        assert_eq!(id["confidence"], "certain", "{r:#}");
        assert_eq!(detail(&id, "dialect"), Some("3.1.1"), "{r:#}");
        let want = if signing { "required" } else { "enabled" };
        assert_eq!(detail(&id, "signing"), Some(want), "{r:#}");
    }
}

#[test]
fn binary_only_and_sasl_memcached_are_memcached() {
    for (sasl, auth) in [(false, "not_required"), (true, "required")] {
        // The server first: without memcached it says the test is skipped.
        let Some(s) = servers::memcached_binary(sasl) else {
            return;
        };
        let want = servers::version_of("memcached", &["-V"]).unwrap();
        let want = want.strip_prefix("memcached ").unwrap_or(&want).to_string();
        let (r, id) = probe_one(&s);
        assert_eq!(id["protocol"], "memcached", "{r:#}");
        assert_eq!(id["version"], want.as_str(), "{r:#}");
        assert_eq!(id["auth"], auth, "{r:#}");
        assert_eq!(detail(&id, "protocol"), Some("binary"), "{r:#}");
    }
}

#[test]
fn zookeeper_is_zookeeper_with_its_release() {
    let Some(s) = servers::zookeeper() else {
        return;
    };
    let (r, id) = probe_one(&s);
    assert_eq!(id["protocol"], "zookeeper", "{r:#}");
    assert_eq!(id["product"], "ZooKeeper", "{r:#}");
    assert_eq!(id["confidence"], "certain", "{r:#}");
    assert_eq!(detail(&id, "mode"), Some("standalone"), "{r:#}");
    // The release in the jar's name: /usr/share/java/zookeeper-3.8.0.jar.
    let release = std::fs::read_dir("/usr/share/java")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find_map(|name| {
            let v = name.strip_prefix("zookeeper-")?.strip_suffix(".jar")?;
            v.starts_with(|c: char| c.is_ascii_digit())
                .then(|| v.to_string())
        })
        .unwrap();
    assert_eq!(id["version"], release.as_str(), "{r:#}");
}
