//! Property tests of the packet codec and the config parser, with a seeded generator (no
//! dependency), plus a replay of the committed fuzz corpus (fuzz/corpus/*, fuzz/regressions/*)
//! through the same entry points the fuzz targets use (fuzz/harness.rs).
//!
//! Every packet check compares `vipd::protocol::packet` with the independent reference model in
//! fuzz/harness.rs (same drop kind, same fields), not only "does not panic".
//!
//! A failing byte-input property is shrunk (chunk deletion, then byte zeroing) and reported
//! with the seed and the minimal input in hex, ready to drop into fuzz/regressions/<target>/.
//! `VIPD_PROPTEST_SCALE=10` runs ten times as many cases.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use harness::{Case, Cfg, PREFIX_V4, check_validate, encode_case};
use vipd::protocol::packet::{DropKind, MULTICAST_V4, MULTICAST_V6, RxMeta, split_ipv4};
use vipd::protocol::units::{Centisecs, Family, Version};

// ------------------------------------------------------------------------------------------
// Generator and shrinking.

/// SplitMix64: small, seedable, good enough for test inputs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn scale() -> usize {
    std::env::var("VIPD_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn fails(f: &dyn Fn(&[u8]), input: &[u8]) -> bool {
    panic::catch_unwind(AssertUnwindSafe(|| f(input))).is_err()
}

/// Run `f` on `input`; on a panic, shrink the input and fail with the smallest one found.
fn check_bytes(name: &str, seed: u64, input: &[u8], f: &dyn Fn(&[u8])) {
    if !fails(f, input) {
        return;
    }
    let mut best = input.to_vec();
    let mut chunk = best.len().max(1);
    while chunk >= 1 {
        let mut i = 0;
        while i < best.len() {
            let mut smaller = best.clone();
            smaller.drain(i..(i + chunk).min(best.len()));
            if fails(f, &smaller) {
                best = smaller;
            } else {
                i += chunk;
            }
        }
        chunk /= 2;
    }
    for i in 0..best.len() {
        if best[i] != 0 {
            let mut simpler = best.clone();
            simpler[i] = 0;
            if fails(f, &simpler) {
                best = simpler;
            }
        }
    }
    let hex: String = best.iter().map(|b| format!("{b:02x}")).collect();
    // Run it once more unguarded so the original panic message is shown.
    eprintln!(
        "{name}: seed {seed:#x}: minimal failing input ({} bytes): {hex}",
        best.len()
    );
    f(&best);
    panic!("{name}: failing input {hex} passed when re-run (flaky?)");
}

// ------------------------------------------------------------------------------------------
// Valid adverts.

fn random_addr(rng: &mut Rng, family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(
            (u128::from(rng.next()) << 64) | u128::from(rng.next()),
        )),
    }
}

/// Valid fields of all kinds: v2 with and without auth, v3/IPv4 both checksum modes,
/// v3/IPv6; 0..=N addresses (N = 255 now and then), multicast or unicast destination.
fn random_case(rng: &mut Rng) -> Case {
    let (out_version, family) = *rng.pick(&[
        (Version::V2, Family::V4),
        (Version::V3, Family::V4),
        (Version::V3, Family::V6),
    ]);
    let count = match rng.below(10) {
        0 => 255,
        1 => 0,
        2 => rng.below(256),
        _ => rng.below(5),
    };
    let src = random_addr(rng, family);
    let dst = if rng.bool() {
        random_addr(rng, family)
    } else if family == Family::V4 {
        IpAddr::V4(MULTICAST_V4)
    } else {
        IpAddr::V6(MULTICAST_V6)
    };
    let interval = match out_version {
        Version::V2 => Centisecs::from_secs(1 + rng.below(255) as u32),
        Version::V3 => {
            let any = 1 + rng.below(4095) as u32;
            Centisecs(*rng.pick(&[1, 4095, 100, any]))
        }
    };
    let mut pass = [0u8; 8];
    let len = 1 + rng.below(8);
    pass[..len].copy_from_slice(&rng.bytes(len));
    Case {
        out_version,
        family,
        vrid: rng.byte(),
        priority: rng.byte(),
        interval,
        auth_pass: (out_version == Version::V2 && rng.bool()).then_some(pass),
        pseudo: rng.bool(),
        src,
        dst,
        addresses: (0..count).map(|_| random_addr(rng, family)).collect(),
        peers: rng.below(4) == 0,
        cut: rng.byte(),
    }
}

/// The lookup configuration that accepts `c` exactly, optionally with unicast peers.
fn cfg_for(c: &Case, peers: Vec<IpAddr>) -> Cfg {
    Cfg {
        slots: vec![harness::Slot {
            vrid: c.vrid,
            version: c.out_version,
            pseudo: c.pseudo,
            auth_pass: c.auth_pass,
            interval: harness::wire_interval(c.out_version, c.interval),
            addresses: c.addresses.clone(),
            peers,
        }],
    }
}

/// An IPv4 datagram around `msg`: IHL 5 or 6, `inner` bytes of padding inside Total Length,
/// `trailer` bytes after it (Ethernet padding).
fn datagram(c: &Case, msg: &[u8], ihl: u8, inner: usize, trailer: usize) -> Vec<u8> {
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (c.src, c.dst) else {
        unreachable!("IPv4 case");
    };
    let hl = usize::from(ihl) * 4;
    let total = (hl + msg.len() + inner) as u16;
    let mut d = vec![0u8; hl];
    d[0] = 0x40 | ihl;
    d[1] = 0xc0;
    d[2..4].copy_from_slice(&total.to_be_bytes());
    d[4..6].copy_from_slice(&[0x12, 0x34]);
    d[8] = 255;
    d[9] = 112;
    d[10..12].copy_from_slice(&[0xab, 0xcd]); // not checked by split_ipv4 (the kernel did)
    d[12..16].copy_from_slice(&src.octets());
    d[16..20].copy_from_slice(&dst.octets());
    if hl > 20 {
        d[20..24].copy_from_slice(&[0x94, 0x04, 0, 0]); // Router Alert
    }
    d.extend_from_slice(msg);
    d.extend(std::iter::repeat_n(0xEE, inner + trailer));
    d
}

// ------------------------------------------------------------------------------------------
// Decode never panics (and agrees with the reference) on arbitrary bytes.

#[test]
fn decode_arbitrary_bytes_ipv4() {
    let mut rng = Rng::new(0x5EED_0001);
    for _ in 0..100_000 * scale() {
        let seed = rng.0;
        // Config prefix, then either pure noise or a plausible IPv4 header + VRRP-ish body.
        let mut input = rng.bytes(PREFIX_V4);
        if rng.below(4) == 0 {
            let n = rng.below(80);
            input.extend(rng.bytes(n));
        } else {
            let body_len = rng.below(60);
            let ihl = *rng.pick(&[5u8, 5, 6, 4, 15]);
            let hl = usize::from(ihl) * 4;
            let mut d = rng.bytes(hl.max(20));
            d[0] = if rng.below(10) == 0 {
                rng.byte()
            } else {
                0x40 | ihl
            };
            let total = match rng.below(4) {
                0 => rng.next() as u16,
                _ => (hl + body_len) as u16,
            };
            d[2..4].copy_from_slice(&total.to_be_bytes());
            if rng.below(8) != 0 {
                d[8] = 255;
                d[9] = 112;
            }
            let mut body = rng.bytes(body_len);
            if let Some(b) = body.first_mut() {
                *b = *rng.pick(&[0x21, 0x31, 0x31, *b]);
            }
            if body.len() > 3 && rng.bool() {
                body[3] = rng.below(4) as u8;
            }
            if body.len() > 1 && rng.bool() {
                // Point one of the configured VRIDs at it.
                input[1] = body[1];
            }
            d.extend(body);
            input.extend(d);
            let tail = rng.below(3);
            input.extend(rng.bytes(tail));
        }
        check_bytes("decode ipv4", seed, &input, &harness::run_ipv4);
    }
}

#[test]
fn decode_arbitrary_bytes_ipv6() {
    let mut rng = Rng::new(0x5EED_0002);
    for _ in 0..100_000 * scale() {
        let seed = rng.0;
        let mut input = rng.bytes(harness::PREFIX_V6);
        if rng.below(4) != 0 {
            input[5] = 255;
        }
        if input[6] & 0x10 != 0 && rng.bool() {
            input[6] &= !0x10;
        }
        if input[6] & 0x10 != 0 {
            input.extend(rng.bytes(32));
        }
        let len = rng.below(90);
        let mut body = rng.bytes(len);
        if let Some(b) = body.first_mut() {
            *b = *rng.pick(&[0x31, 0x31, 0x21, *b]);
        }
        if body.len() > 3 && rng.bool() {
            body[3] = rng.below(4) as u8;
        }
        if body.len() > 1 && rng.bool() {
            input[1] = body[1];
        }
        input.extend(body);
        if rng.below(20) == 0 {
            input.truncate(rng.below(input.len() + 1));
        }
        check_bytes("decode ipv6", seed, &input, &harness::run_ipv6);
    }
}

// ------------------------------------------------------------------------------------------
// encode -> validate is the identity.

#[test]
fn encode_then_validate_is_identity() {
    let mut rng = Rng::new(0x5EED_0003);
    let mut kinds = [0usize; 5];
    for _ in 0..10_000 * scale() {
        let c = random_case(&mut rng);
        kinds[match (c.out_version, c.family, c.auth_pass.is_some(), c.pseudo) {
            (Version::V2, _, false, _) => 0,
            (Version::V2, _, true, _) => 1,
            (Version::V3, Family::V4, _, true) => 2,
            (Version::V3, Family::V4, _, false) => 3,
            (Version::V3, Family::V6, _, _) => 4,
        }] += 1;
        // check_case: identity of every field, plus unknown VRID, hop limit, the other
        // checksum convention, truncation and padding.
        harness::check_case(&c);
    }
    assert!(
        kinds.iter().all(|&n| n > 100),
        "every kind covered: {kinds:?}"
    );
}

#[test]
fn roundtrip_entry_point_on_arbitrary_bytes() {
    let mut rng = Rng::new(0x5EED_0004);
    for _ in 0..20_000 * scale() {
        let seed = rng.0;
        let n = rng.below(120);
        let input = rng.bytes(n);
        check_bytes("roundtrip", seed, &input, &harness::run_roundtrip);
    }
}

// ------------------------------------------------------------------------------------------
// Single-bit flips of a valid advert.

/// Whether flipping `bit` of byte `at` of the datagram may leave it valid.
///
/// Accepted only in places nothing checks: TOS, identification, flags / fragment offset,
/// header checksum (the kernel verified it), IP options, padding inside Total Length, bytes
/// after Total Length; the IP source and destination when the checksum has no
/// pseudo-header (v2, and v3 configured the RFC 9568 way) and the source is not filtered by
/// unicast peers (destination only, then); Total Length when the new value still covers the
/// message and not beyond the datagram. Everything in the VRRP message is covered by the
/// checksum (a one-bit change is never a multiple of 0xffff), so it is rejected, as are TTL,
/// version / IHL and protocol. `None`: the count byte, where another count makes another
/// message (shorter, or longer into the padding) whose checksum holds with probability
/// 2^-16; the reference decides.
fn flip_may_pass(
    c: &Case,
    peers: bool,
    at: usize,
    bit: u8,
    hl: usize,
    msg_len: usize,
    d: &[u8],
) -> Option<bool> {
    let pseudo = c.out_version == Version::V3 && c.pseudo;
    Some(match at {
        0 | 8 | 9 => false,
        1 | 4..=7 | 10 | 11 => true,
        2 | 3 => {
            let mut t = [d[2], d[3]];
            t[at - 2] ^= 1 << bit;
            let new_total = usize::from(u16::from_be_bytes([t[0], t[1]]));
            new_total >= hl + msg_len && new_total <= d.len()
        }
        12..=15 => !pseudo && !peers,
        16..=19 => !pseudo,
        _ if at < hl => true,
        _ if at == hl + 3 => return None,
        _ if at < hl + msg_len => false,
        _ => true,
    })
}

#[test]
fn single_bit_flips_ipv4() {
    let mut rng = Rng::new(0x5EED_0005);
    let mut accepted = 0usize;
    let mut cases = 0;
    while cases < 400 * scale() {
        let mut c = random_case(&mut rng);
        if c.family != Family::V4 {
            continue;
        }
        cases += 1;
        c.addresses.truncate(rng.below(4));
        let msg = encode_case(&c);
        let ihl = *rng.pick(&[5u8, 6]);
        let (inner, trailer) = (*rng.pick(&[0, 4]), *rng.pick(&[0, 6]));
        let d = datagram(&c, &msg, ihl, inner, trailer);
        let peers = rng.bool();
        let cfg = cfg_for(
            &c,
            if peers {
                vec![c.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 99))]
            } else {
                Vec::new()
            },
        );
        let (meta, payload) = split_ipv4(&d).expect("built datagram splits");
        assert!(check_validate(payload, &meta, Family::V4, &cfg).is_ok());
        let hl = usize::from(ihl) * 4;
        for at in 0..d.len() {
            for bit in 0..8u8 {
                let mut f = d.clone();
                f[at] ^= 1 << bit;
                let ok = match harness_split(&f) {
                    Some((meta, payload)) => {
                        check_validate(payload, &meta, Family::V4, &cfg).is_ok()
                    }
                    None => false,
                };
                accepted += usize::from(ok);
                if let Some(may) = flip_may_pass(&c, peers, at, bit, hl, msg.len(), &d) {
                    assert_eq!(
                        ok,
                        may,
                        "flip of bit {bit} of byte {at} (IHL {ihl}, message {} bytes, inner \
                         {inner}, trailer {trailer}, peers {peers}) of {d:02x?}; case {c:?}",
                        msg.len()
                    );
                }
            }
        }
    }
    assert!(accepted > 0);
}

fn harness_split(d: &[u8]) -> Option<(RxMeta, &[u8])> {
    let got = split_ipv4(d);
    let want = harness::ref_split_ipv4(d);
    assert_eq!(got.is_ok(), want.is_ok());
    got.ok()
}

#[test]
fn single_bit_flips_ipv6() {
    // Body, hop limit, source and destination: with the IPv6 pseudo-header every one of
    // them is checked, so no single flip passes (except in padding after the message).
    let mut rng = Rng::new(0x5EED_0006);
    let mut cases = 0;
    while cases < 400 * scale() {
        let mut c = random_case(&mut rng);
        if c.family != Family::V6 {
            continue;
        }
        cases += 1;
        c.addresses.truncate(rng.below(4));
        let mut body = encode_case(&c);
        let msg_len = body.len();
        body.extend(std::iter::repeat_n(0u8, *rng.pick(&[0, 10])));
        let cfg = cfg_for(&c, Vec::new());
        let meta = RxMeta {
            src: c.src,
            dst: c.dst,
            hop_limit: 255,
        };
        assert!(check_validate(&body, &meta, Family::V6, &cfg).is_ok());
        let addr = |a: IpAddr| match a {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(_) => unreachable!(),
        };
        // Positions: body bytes, then hop limit, then 16 src and 16 dst bytes.
        for at in 0..body.len() + 33 {
            for bit in 0..8u8 {
                let mut b = body.clone();
                let mut m = meta;
                let mut src = addr(meta.src);
                let mut dst = addr(meta.dst);
                match at {
                    _ if at < body.len() => b[at] ^= 1 << bit,
                    _ if at == body.len() => m.hop_limit ^= 1 << bit,
                    _ if at <= body.len() + 16 => src[at - body.len() - 1] ^= 1 << bit,
                    _ => dst[at - body.len() - 17] ^= 1 << bit,
                }
                m.src = IpAddr::V6(src.into());
                m.dst = IpAddr::V6(dst.into());
                let ok = check_validate(&b, &m, Family::V6, &cfg).is_ok();
                if at == 3 {
                    continue; // another message length: the reference (checked above) decides
                }
                let may = at >= msg_len && at < body.len();
                assert_eq!(ok, may, "flip of bit {bit} at {at}; case {c:?}");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Truncation.

#[test]
fn truncation_at_every_length_is_rejected() {
    let mut rng = Rng::new(0x5EED_0007);
    for _ in 0..1_000 * scale() {
        let mut c = random_case(&mut rng);
        if rng.below(4) != 0 {
            c.addresses.truncate(8);
        }
        let msg = encode_case(&c);
        let meta = RxMeta {
            src: c.src,
            dst: c.dst,
            hop_limit: 255,
        };
        let known = cfg_for(&c, Vec::new());
        let unknown = Cfg { slots: Vec::new() };
        for n in 0..msg.len() {
            for cfg in [&known, &unknown] {
                let r = check_validate(&msg[..n], &meta, c.family, cfg);
                assert_eq!(r.map(|_| ()), Err(DropKind::Length), "cut at {n} of {c:?}");
            }
        }
        assert!(check_validate(&msg, &meta, c.family, &known).is_ok());
        if c.family == Family::V4 {
            // The datagram cut anywhere before its Total Length: IpHeader.
            let d = datagram(&c, &msg, *rng.pick(&[5, 6]), 0, 0);
            for n in 0..d.len() {
                assert_eq!(
                    split_ipv4(&d[..n]).map(|_| ()),
                    Err(DropKind::IpHeader),
                    "{n}"
                );
            }
            let (m, p) = split_ipv4(&d).unwrap();
            assert!(check_validate(p, &m, Family::V4, &known).is_ok());
        }
    }
}

// ------------------------------------------------------------------------------------------
// Config.

const TOKENS: &[&str] = &[
    "[global]",
    "[[instance]]",
    "[instance]",
    "name",
    "interface",
    "vrid",
    "priority",
    "version",
    "advert_interval",
    "preempt",
    "virtual_addresses",
    "unicast_peers",
    "auth_pass",
    "checksum_ipv4_pseudo_header",
    "router_id",
    "control_socket",
    " = ",
    "=",
    "\n",
    "\n",
    "\n",
    "\"",
    "'",
    "\"\"\"",
    "'''",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "#",
    " ",
    "\t",
    "\r\n",
    "0",
    "1",
    "2",
    "3",
    "255",
    "256",
    "-1",
    "4095",
    "1e3",
    "0x10",
    "1_0",
    "true",
    "false",
    "\"10ms\"",
    "\"1s\"",
    "\"2m\"",
    "\"40950ms\"",
    "\"255s\"",
    "\"1.5s\"",
    "\"18446744073709551615ms\"",
    "\"99999999999999999999s\"",
    "\"10.0.0.1\"",
    "\"10.0.0.1/24\"",
    "\"10.0.0.1/33\"",
    "\"fe80::1/64\"",
    "\"::\"",
    "\"224.0.0.18\"",
    "\"eth0\"",
    "\"/run/x.sock\"",
    "\"s3cret\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "é",
    "\u{10FFFF}",
    "\u{0}",
    "1979-05-27T07:32:00Z",
    "inf",
    "nan",
    "+",
    "-",
    "\\",
    "a.b",
    "\"a\".b",
];

#[test]
fn config_parse_never_panics_on_token_soup() {
    let mut rng = Rng::new(0x5EED_0008);
    for _ in 0..10_000 * scale() {
        let seed = rng.0;
        let n = rng.below(60);
        let mut text = String::new();
        for _ in 0..n {
            if rng.below(10) == 0 {
                text.push(char::from_u32(rng.next() as u32 % 0x11_0000).unwrap_or('\u{fffd}'));
            } else {
                text.push_str(rng.pick::<&str>(TOKENS));
            }
        }
        check_bytes("config soup", seed, text.as_bytes(), &harness::run_config);
    }
}

fn example_configs() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("conf/ is readable")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no conf/*.toml");
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn config_examples_parse_and_satisfy_the_invariants() {
    for (name, text) in example_configs() {
        assert!(
            vipd::config::parse(&text, Path::new(&name)).is_ok(),
            "{name} does not parse"
        );
        harness::check_config(&text);
    }
}

/// One random edit of a config text, at line or character level.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = rng.below(lines.len());
    match rng.below(8) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(rng.below(lines.len() + 1), l);
        }
        2 => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
        3 | 4 => {
            // Replace the value of a `key = value` line.
            if let Some((k, _)) = lines[i].split_once('=') {
                let v = rng.pick(TOKENS);
                lines[i] = format!("{k}= {v}");
            }
        }
        5 => {
            let chars: Vec<char> = lines[i].chars().collect();
            let at = rng.below(chars.len() + 1);
            let mut s: String = chars[..at].iter().collect();
            s.push_str(rng.pick::<&str>(TOKENS));
            s.extend(&chars[at..]);
            lines[i] = s;
        }
        6 => {
            let chars: Vec<char> = lines[i].chars().collect();
            if !chars.is_empty() {
                let at = rng.below(chars.len());
                let mut s: Vec<char> = chars.clone();
                s.remove(at);
                lines[i] = s.into_iter().collect();
            }
        }
        _ => {
            let line = format!("{} = {}", rng.pick(TOKENS), rng.pick(TOKENS));
            lines.insert(i, line);
        }
    }
    lines.join(if rng.below(20) == 0 { "\r\n" } else { "\n" })
}

#[test]
fn config_parse_never_panics_on_mutated_examples() {
    let mut rng = Rng::new(0x5EED_0009);
    let examples = example_configs();
    for _ in 0..5_000 * scale() {
        let seed = rng.0;
        let (_, base) = rng.pick(&examples);
        let mut text = base.clone();
        for _ in 0..1 + rng.below(4) {
            text = mutate(&mut rng, &text);
        }
        check_bytes(
            "config mutation",
            seed,
            text.as_bytes(),
            &harness::run_config,
        );
    }
}

#[test]
fn config_truncated_examples_never_panic() {
    for (_, text) in example_configs() {
        let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        for &end in ends.iter().step_by(7) {
            harness::check_config(&text[..end]);
        }
    }
}

// ------------------------------------------------------------------------------------------
// import-keepalived: arbitrary keepalived input never panics; what it produces loads with
// vipd's loader, and what it refuses has a problem with a place (harness::check_import).

/// Words and pieces keepalived files are made of, good and bad.
const KEEPALIVED_TOKENS: &[&str] = &[
    "vrrp_instance VI_1",
    "vrrp_instance",
    "vrrp_script chk",
    "vrrp_sync_group G",
    "track_file f",
    "vrrp_track_process p",
    "global_defs",
    "virtual_server 10.0.0.1 80",
    "group",
    "{",
    "}",
    "\n",
    "\n",
    "\n",
    " ",
    "interface eth0",
    "interface eth1",
    "interface",
    "virtual_router_id 51",
    "virtual_router_id 0",
    "virtual_router_id 300",
    "priority 150",
    "priority 255",
    "state MASTER",
    "state BACKUP",
    "advert_int 1",
    "advert_int 0.5",
    "advert_int 0",
    "version 3",
    "version 2",
    "nopreempt",
    "preempt_delay 30",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "10.0.0.10/24",
    "10.0.0.11",
    "fe80::1",
    "2001:db8::1/64",
    "dev eth0",
    "label eth0:1",
    "unicast_peer",
    "10.0.0.2",
    "fe80::2",
    "authentication",
    "auth_type PASS",
    "auth_pass s3cret",
    "track_script",
    "track_interface",
    "track_file",
    "track_process",
    "chk",
    "chk weight -20",
    "weight 10 reverse",
    "script \"/bin/true\"",
    "script /usr/bin/pgrep -x haproxy",
    "process haproxy",
    "file /run/f",
    "notify_master \"/bin/n master\"",
    "notify /bin/n root",
    "router_id r1",
    "script_user nobody",
    "include conf.d/*.conf",
    "include ../other.conf",
    "include keepalived.conf",
    "include other.conf",
    "@lb1 ",
    "@^lb1 ",
    "@lb2 ",
    "$X=10.0.0.1",
    "$T= \\",
    "$T",
    "${X}",
    "$X",
    "# comment",
    "! comment",
    "\"",
    "'",
    "\\",
    "%%",
    "~SEQ(N, 1, 3)",
    "use_vmac",
    "é",
];

/// Random keepalived-ish files: a main file and, after `%%` lines, the included ones.
fn keepalived_soup(rng: &mut Rng) -> Vec<u8> {
    let mut text = String::new();
    for _ in 0..rng.below(120) {
        if rng.below(40) == 0 {
            text.push(char::from_u32(rng.next() as u32 % 0x11_0000).unwrap_or('\u{fffd}'));
        } else {
            text.push_str(rng.pick::<&str>(KEEPALIVED_TOKENS));
            text.push(if rng.below(3) == 0 { '\n' } else { ' ' });
        }
    }
    text.into_bytes()
}

#[test]
fn import_never_panics_on_keepalived_token_soup() {
    let mut rng = Rng::new(0x5EED_0101);
    for _ in 0..3_000 * scale() {
        let seed = rng.0;
        let input = keepalived_soup(&mut rng);
        check_bytes("import soup", seed, &input, &harness::run_import);
    }
}

#[test]
fn import_never_panics_on_arbitrary_bytes() {
    let mut rng = Rng::new(0x5EED_0102);
    for _ in 0..2_000 * scale() {
        let seed = rng.0;
        let n = rng.below(400);
        let input = rng.bytes(n);
        check_bytes("import bytes", seed, &input, &harness::run_import);
    }
}

/// The keepalived files of tests/data/keepalived, each case's main file and its includes
/// joined in harness layout.
fn keepalived_examples() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/keepalived is readable")
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "too few keepalived examples in {}",
        dir.display()
    );
    cases
        .into_iter()
        .map(|case| {
            let mut data = std::fs::read(case.join("keepalived.conf")).unwrap();
            let conf_d = case.join("conf.d");
            if let Ok(entries) = std::fs::read_dir(&conf_d) {
                let mut parts: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
                parts.sort();
                for p in parts.into_iter().take(2) {
                    data.extend_from_slice(b"\n%%\n");
                    data.extend(std::fs::read(p).unwrap());
                }
            }
            (case.display().to_string(), data)
        })
        .collect()
}

#[test]
fn import_examples_import() {
    for (name, data) in keepalived_examples() {
        harness::run_import(&data);
        let (files, _) = harness::import_files(&data);
        let options = vipd::import::Options {
            config_id: Some("lb1".into()),
            ..Default::default()
        };
        let path = Path::new(harness::IMPORT_FILES[0]);
        if let Err(f) = vipd::import::import(path, &files, &options) {
            panic!("{name} does not import: {:?}", f.problems);
        }
    }
}

/// One random edit of a keepalived file: a line dropped, doubled or moved, a token inserted
/// or a character removed.
fn mutate_keepalived(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(data);
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let i = rng.below(lines.len());
    match rng.below(6) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let l = lines[i].clone();
            lines.insert(rng.below(lines.len() + 1), l);
        }
        2 => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
        3 | 4 => {
            let chars: Vec<char> = lines[i].chars().collect();
            let at = rng.below(chars.len() + 1);
            let mut s: String = chars[..at].iter().collect();
            s.push_str(rng.pick::<&str>(KEEPALIVED_TOKENS));
            s.extend(&chars[at..]);
            lines[i] = s;
        }
        _ => {
            let mut chars: Vec<char> = lines[i].chars().collect();
            if !chars.is_empty() {
                chars.remove(rng.below(chars.len()));
                lines[i] = chars.into_iter().collect();
            }
        }
    }
    lines.join("\n").into_bytes()
}

#[test]
fn import_never_panics_on_mutated_examples() {
    let mut rng = Rng::new(0x5EED_0103);
    let examples = keepalived_examples();
    for _ in 0..3_000 * scale() {
        let seed = rng.0;
        let (_, base) = rng.pick(&examples);
        let mut data = base.clone();
        for _ in 0..1 + rng.below(4) {
            data = mutate_keepalived(&mut rng, &data);
        }
        check_bytes("import mutation", seed, &data, &harness::run_import);
    }
}

#[test]
fn import_truncated_examples_never_panic() {
    for (_, data) in keepalived_examples() {
        for end in (0..data.len()).step_by(5) {
            harness::run_import(&data[..end]);
        }
    }
}

// ------------------------------------------------------------------------------------------
// The committed fuzz corpus and regressions, replayed.

#[test]
fn replay_fuzz_corpus_and_regressions() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    type Entry = fn(&[u8]);
    let targets: [(&str, Entry); 5] = [
        ("packet_ipv4", harness::run_ipv4),
        ("packet_ipv6", harness::run_ipv6),
        ("roundtrip", harness::run_roundtrip),
        ("config", harness::run_config),
        ("import_keepalived", harness::run_import),
    ];
    for (target, run) in targets {
        let mut corpus_files = 0;
        for kind in ["corpus", "regressions"] {
            let dir = fuzz.join(kind).join(target);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                assert_eq!(kind, "regressions", "{} is missing", dir.display());
                continue;
            };
            let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            paths.sort();
            for p in paths.iter().filter(|p| p.is_file()) {
                let data = std::fs::read(p).unwrap();
                if panic::catch_unwind(|| run(&data)).is_err() {
                    panic!("{target}: {} fails", p.display());
                }
                if kind == "corpus" {
                    corpus_files += 1;
                }
            }
        }
        assert!(corpus_files > 0, "fuzz/corpus/{target} is empty");
    }
}
