//! User names as the system knows them: through NSS (`getpwuid_r`/`getpwnam_r`, by way of
//! the `uzers` crate), so accounts from LDAP, SSSD or systemd's `DynamicUser=` resolve as they
//! do for `id` and `ps` — not only those written in `/etc/passwd` (NSS's `files` source still
//! reads it). A directory server can be slow, so each uid is asked once per [`Names`].

use std::collections::HashMap;
use std::sync::Mutex;

/// uid ↔ name lookups for one run, remembered (misses too).
#[derive(Debug, Default)]
pub struct Names {
    by_uid: Mutex<HashMap<u32, Option<String>>>,
}

impl Names {
    /// An empty cache: nothing is asked before it is needed.
    pub fn new() -> Names {
        Names::default()
    }

    /// The user name of `uid`; `None` when no NSS source knows it.
    pub fn name(&self, uid: u32) -> Option<String> {
        let mut cache = self.by_uid.lock().unwrap_or_else(|e| e.into_inner());
        cache.entry(uid).or_insert_with(|| name_of(uid)).clone()
    }

    /// The uid of user `name`; `None` when no NSS source knows it.
    pub fn uid(&self, name: &str) -> Option<u32> {
        let user = uzers::get_user_by_name(name)?;
        let uid = user.uid();
        let mut cache = self.by_uid.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(uid)
            .or_insert_with(|| Some(user.name().to_string_lossy().into_owned()));
        Some(uid)
    }
}

/// One `getpwuid_r` lookup.
fn name_of(uid: u32) -> Option<String> {
    uzers::get_user_by_uid(uid).map(|u| u.name().to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_both_ways() {
        let names = Names::new();
        assert_eq!(names.name(0).as_deref(), Some("root"));
        assert_eq!(names.uid("root"), Some(0));
    }

    #[test]
    fn unknown_users_are_none() {
        let names = Names::new();
        assert_eq!(names.uid("no-such-user-portscope-test"), None);
        assert_eq!(names.uid("bad\0name"), None);
        // 4294967294 is (uid_t)-2, which no system hands out.
        assert_eq!(names.name(4_294_967_294), None);
        assert_eq!(
            names.name(4_294_967_294),
            None,
            "a miss is remembered, not an error"
        );
    }
}
