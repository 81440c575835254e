//! Random bytes from the kernel (`getrandom(2)`), for secrets such as the dashboard's
//! per-run token. Blocks only before the kernel's pool is first seeded (early boot).

use crate::error::{Error, Result};

/// Fill `buf` with random bytes from the kernel.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match rustix::rand::getrandom(&mut buf[done..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(Error::io("reading random bytes from the kernel", e.into())),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[test]
    fn fills_and_differs() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        super::fill(&mut a).unwrap();
        super::fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
