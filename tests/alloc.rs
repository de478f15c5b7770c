//! The steady state allocates nothing: receive validation, the state machine, and encoding an
//! advert into a reused buffer are measured with a counting allocator.
//!
//! The counter is per thread, so the test harness's own threads do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use vipd::agent::network::Received;
use vipd::agent::receive::VridTable;
use vipd::config;
use vipd::protocol::fsm::{Event, Fsm, Params, State};
use vipd::protocol::packet::{self, AdvertOut};
use vipd::protocol::units::{Centisecs, Family, Version};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the bookkeeping touches only const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|c| c.set(c.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

const CONFIG: &str = r#"
[global]
router_id = "t"
[[instance]]
name = "web"
interface = "eth0"
vrid = 51
priority = 100
advert_interval = "100ms"
virtual_addresses = ["10.99.0.50/24", "10.99.0.51/24"]
"#;

/// What a priority-150 master of VRID 51 sends every 100 ms.
fn master_advert(addresses: &[IpAddr]) -> AdvertOut<'_> {
    AdvertOut {
        version: Version::V3,
        vrid: 51,
        priority: 150,
        interval: Centisecs(10),
        addresses,
        auth_pass: None,
        checksum_ipv4_pseudo_header: true,
    }
}

/// A whole IPv4 datagram as a raw socket hands it over.
fn ipv4_datagram(src: Ipv4Addr, vrrp: &[u8]) -> Vec<u8> {
    let total = (20 + vrrp.len()) as u16;
    let mut d = vec![0x45, 0xc0];
    d.extend_from_slice(&total.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0, 255, 112, 0, 0]);
    d.extend_from_slice(&src.octets());
    d.extend_from_slice(&packet::MULTICAST_V4.octets());
    d.extend_from_slice(vrrp);
    d
}

#[test]
fn receive_and_state_machine_do_not_allocate_per_advert() {
    let cfg = config::parse(CONFIG, Path::new("alloc.toml")).expect("valid test config");
    let inst = &cfg.instances[0];
    let table = VridTable::new(cfg.instances.iter().enumerate());
    let master = Ipv4Addr::new(10, 99, 0, 1);
    let addrs: Vec<IpAddr> = inst.virtual_addresses.iter().map(|v| v.addr).collect();
    let mut vrrp = Vec::new();
    let out = master_advert(&addrs);
    packet::encode(&out, master.into(), packet::MULTICAST_V4.into(), &mut vrrp);
    let datagram = ipv4_datagram(master, &vrrp);
    let rx = Received {
        len: datagram.len(),
        src: None,
        dst: None,
        hop_limit: None,
    };

    let mut fsm = Fsm::new(Params {
        version: Version::V3,
        priority: 100,
        advert_interval: Centisecs(10),
        preempt: true,
    });
    let mut actions = Vec::with_capacity(8);
    fsm.handle(
        Duration::ZERO,
        Event::Interface(Some(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)))),
        &mut actions,
    );
    fsm.handle(Duration::ZERO, Event::Startup, &mut actions);
    actions.clear();

    let n = allocations_during(|| {
        for k in 1..=10_000u64 {
            let now = Duration::from_millis(k * 100);
            let inbound = table.check(Family::V4, &datagram, &rx);
            let Ok(inbound) = inbound else {
                panic!("advert rejected: {inbound:?}");
            };
            fsm.handle(now, Event::Advert(inbound.advert), &mut actions);
            fsm.handle_timeout(now, &mut actions);
            actions.clear();
        }
    });
    assert_eq!(
        fsm.state(),
        State::Backup,
        "the master's adverts hold us back"
    );
    assert_eq!(n, 0, "allocations on the receive path over 10000 adverts");
}

#[test]
fn encoding_into_a_reused_buffer_does_not_allocate() {
    let addrs = [IpAddr::V4(Ipv4Addr::new(10, 99, 0, 50))];
    let out = master_advert(&addrs);
    let src = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
    let dst = IpAddr::V4(packet::MULTICAST_V4);
    let mut buf = Vec::with_capacity(1500);
    let n = allocations_during(|| {
        for _ in 0..10_000 {
            packet::encode(&out, src, dst, &mut buf);
        }
    });
    assert!(!buf.is_empty());
    assert_eq!(n, 0, "allocations while encoding 10000 adverts");
}

#[test]
fn the_counter_sees_allocations() {
    let n = allocations_during(|| {
        let b = std::hint::black_box(Box::new(7u64));
        assert_eq!(*b, 7);
    });
    assert_eq!(n, 1);
}
