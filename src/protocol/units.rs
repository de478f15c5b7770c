//! Protocol units shared by the packet codec, the state machine and the config.
//!
//! All VRRP protocol time is kept as integer centiseconds (`Centisecs`), the unit of the
//! VRRPv3 `Max Adver Int` field. Conversion to wall-clock durations happens only in
//! [`Centisecs::to_duration`]; nothing in the protocol path uses floats.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A protocol duration in centiseconds (1/100 s).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Centisecs(pub u32);

impl Centisecs {
    /// The one place protocol time becomes wall-clock time.
    pub const fn to_duration(self) -> Duration {
        Duration::from_millis(self.0 as u64 * 10)
    }

    /// Whole centiseconds in `d`, rounding down; `None` when it does not fit in u32.
    pub fn from_duration(d: Duration) -> Option<Self> {
        u32::try_from(d.as_millis() / 10).ok().map(Centisecs)
    }

    pub const fn from_secs(s: u32) -> Self {
        Centisecs(s * 100)
    }
}

impl fmt::Display for Centisecs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0 as u64 * 10)
    }
}

/// VRRP protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// RFC 3768: IPv4 only, interval in whole seconds, optional simple-text auth.
    V2,
    /// RFC 5798 / RFC 9568: IPv4 and IPv6, interval in centiseconds.
    V3,
}

impl Version {
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of an instance (VRRP runs one election per VRID and family).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

impl Family {
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Bytes one address takes in an advertisement.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        })
    }
}

/// `Skew_Time` (RFC 9568 section 6.1): `((256 - priority) * interval) / 256`, in whole
/// microseconds. The interval is on the wire in centiseconds, but the skew must not be: in
/// whole centiseconds it is 0 for every priority at a 10 ms interval, and backups of
/// different priorities would take over together. u64 math: no overflow for any input.
/// VRRPv2 passes its interval in centiseconds too.
pub const fn skew_time(priority: u8, interval: Centisecs) -> Duration {
    let interval_us = interval.0 as u64 * 10_000;
    Duration::from_micros((256 - priority as u64) * interval_us / 256)
}

/// `Master_Down_Interval = 3 * interval + Skew_Time`, in whole microseconds.
pub const fn master_down_interval(priority: u8, interval: Centisecs) -> Duration {
    let three = Duration::from_micros(3 * interval.0 as u64 * 10_000);
    three.saturating_add(skew_time(priority, interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn skew_is_exact_to_the_microsecond_without_overflow() {
        // 255 * 4095 cs: the largest product.
        assert_eq!(skew_time(1, Centisecs(4095)), us(255 * 40_950_000 / 256));
        assert_eq!(skew_time(255, Centisecs(100)), us(3_906));
        assert_eq!(skew_time(100, Centisecs(100)), us(609_375));
    }

    /// RFC 9568's formula evaluated exactly (in rationals: ms * (256 - p) / 256) at a 10 ms
    /// interval, truncated to the microsecond.
    #[test]
    fn at_10_ms_each_priority_has_its_own_skew() {
        for (prio, skew_us, down_us) in [
            (255, 39, 30_039),
            (200, 2_187, 32_187),
            (150, 4_140, 34_140),
            (120, 5_312, 35_312),
            (100, 6_093, 36_093),
            (1, 9_960, 39_960),
        ] {
            assert_eq!(
                skew_time(prio, Centisecs(1)),
                us(skew_us),
                "priority {prio}"
            );
            assert_eq!(
                master_down_interval(prio, Centisecs(1)),
                us(down_us),
                "priority {prio}"
            );
        }
        // Backups 0.78 ms apart at priority 100 and 120: the better one goes first.
        assert!(master_down_interval(120, Centisecs(1)) < master_down_interval(100, Centisecs(1)));
    }

    #[test]
    fn master_down_is_three_intervals_plus_skew() {
        assert_eq!(master_down_interval(100, Centisecs(10)), us(360_937));
        // v2: 1 s interval, priority 100: skew 156/256 s.
        assert_eq!(
            master_down_interval(100, Centisecs::from_secs(1)),
            us(3_609_375)
        );
        assert_eq!(
            master_down_interval(1, Centisecs(4095)),
            us(3 * 40_950_000 + 40_790_039)
        );
    }

    #[test]
    fn centisecs_convert_in_one_place() {
        assert_eq!(Centisecs(5).to_duration(), Duration::from_millis(50));
        assert_eq!(
            Centisecs::from_duration(Duration::from_millis(129)),
            Some(Centisecs(12))
        );
    }
}
