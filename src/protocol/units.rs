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

/// `Skew_Time` (RFC 9568 section 6.1): `((256 - priority) * interval) / 256`, integer
/// centiseconds computed in u32 because `255 * 4095` overflows u16. VRRPv2 passes its
/// interval in centiseconds too, which keeps its sub-second skew instead of truncating it.
pub const fn skew_time(priority: u8, interval: Centisecs) -> Centisecs {
    Centisecs(((256 - priority as u32) * interval.0) / 256)
}

/// `Master_Down_Interval = 3 * interval + Skew_Time`.
pub const fn master_down_interval(priority: u8, interval: Centisecs) -> Centisecs {
    Centisecs(3 * interval.0 + skew_time(priority, interval).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_uses_u32_math_without_overflow() {
        assert_eq!(skew_time(1, Centisecs(4095)), Centisecs(255 * 4095 / 256));
        assert_eq!(skew_time(255, Centisecs(100)), Centisecs(0));
        assert_eq!(skew_time(100, Centisecs(100)), Centisecs(60));
    }

    #[test]
    fn master_down_is_three_intervals_plus_skew() {
        assert_eq!(master_down_interval(100, Centisecs(100)), Centisecs(360));
        // 10 ms adverts: the skew rounds down to zero centiseconds.
        assert_eq!(master_down_interval(200, Centisecs(1)), Centisecs(3));
        // v2: 1 s interval, priority 100: skew 156/256 s = 60 cs.
        assert_eq!(
            master_down_interval(100, Centisecs::from_secs(1)),
            Centisecs(360)
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
