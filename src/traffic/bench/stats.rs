//! Percentiles (nearest rank) and throughput figures: pure functions over measured samples.

use serde::Serialize;

/// Summary of timed samples, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// How many samples.
    pub count: u64,
    /// Fastest.
    pub min_us: f64,
    /// Median (nearest rank).
    pub p50_us: f64,
    /// 90th percentile (nearest rank).
    pub p90_us: f64,
    /// 99th percentile (nearest rank).
    pub p99_us: f64,
    /// Slowest.
    pub max_us: f64,
    /// Arithmetic mean.
    pub mean_us: f64,
}

impl Stats {
    /// Summarise samples (microseconds, any order); `None` when there are none or one is not
    /// a finite number.
    pub fn from_samples(mut samples: Vec<f64>) -> Option<Stats> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite()) {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        Some(Stats {
            count: n as u64,
            min_us: round(samples[0], 3),
            p50_us: round(percentile(&samples, 50.0), 3),
            p90_us: round(percentile(&samples, 90.0), 3),
            p99_us: round(percentile(&samples, 99.0), 3),
            max_us: round(samples[n - 1], 3),
            mean_us: round(samples.iter().sum::<f64>() / n as f64, 3),
        })
    }
}

/// `x` rounded to `places` decimals (JSON without float noise: µs to the nanosecond).
pub fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// The nearest-rank `p`th percentile (0–100) of ascending `sorted` samples: the smallest
/// sample with at least p% of the samples at or below it. 0.0 for no samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let n = sorted.len();
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

/// Bytes moved in a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// `discard` (bytes written to a discard server) or `echo` (bytes written and read back
    /// concurrently through an echo server; counted once).
    pub mode: &'static str,
    /// What it was measured against (IP:PORT or a socket path).
    pub target: String,
    /// Bytes counted.
    pub bytes: u64,
    /// From the first write to the last byte counted, in seconds.
    pub duration_s: f64,
    /// Bits per second (`bytes × 8 / duration_s`).
    pub bits_per_second: f64,
    /// MiB (2^20 bytes) per second.
    pub mib_per_second: f64,
}

impl Throughput {
    /// The figures for `bytes` in `seconds` (0 per second when no time passed).
    pub fn new(mode: &'static str, target: String, bytes: u64, seconds: f64) -> Throughput {
        let per_s = if seconds > 0.0 {
            bytes as f64 / seconds
        } else {
            0.0
        };
        Throughput {
            mode,
            target,
            bytes,
            duration_s: round(seconds, 6),
            bits_per_second: (per_s * 8.0).round(),
            mib_per_second: round(per_s / f64::from(1u32 << 20), 3),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 90.0), 90.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        // The classic example: 15, 20, 35, 40, 50.
        let w = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(percentile(&w, 30.0), 20.0);
        assert_eq!(percentile(&w, 40.0), 20.0);
        assert_eq!(percentile(&w, 50.0), 35.0);
        assert_eq!(percentile(&w, 100.0), 50.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn summary() {
        let s = Stats::from_samples(vec![4.0, 1.0, 3.0, 2.0, 10.0]).unwrap();
        assert_eq!(s.count, 5);
        assert_eq!(s.min_us, 1.0);
        assert_eq!(s.p50_us, 3.0);
        assert_eq!(s.p90_us, 10.0);
        assert_eq!(s.p99_us, 10.0);
        assert_eq!(s.max_us, 10.0);
        assert_eq!(s.mean_us, 4.0);
        assert!(Stats::from_samples(vec![]).is_none());
        assert!(Stats::from_samples(vec![1.0, f64::NAN]).is_none());
        let many = Stats::from_samples((0..1000).rev().map(f64::from).collect()).unwrap();
        assert!(many.min_us <= many.p50_us && many.p50_us <= many.p90_us);
        assert!(many.p90_us <= many.p99_us && many.p99_us <= many.max_us);
    }

    #[test]
    fn rates() {
        let t = Throughput::new("discard", "x".into(), 1 << 30, 2.0);
        assert_eq!(t.mib_per_second, 512.0);
        assert_eq!(t.bits_per_second, 8.0 * f64::from(1u32 << 29));
        assert_eq!(
            Throughput::new("echo", "x".into(), 5, 0.0).bits_per_second,
            0.0
        );
    }
}
