//! Every state-machine rule as a row of (state, event, time) -> (state, actions, next timer).
//!
//! Fixtures: local address 10.0.0.2, advert interval 1 s, priority 100 unless a row says
//! otherwise, so Skew_Time = 156 * 1 s / 256 = 609.375 ms and Master_Down_Interval =
//! 3609.375 ms ([`MDI`]). Backup is entered at t=0 (master-down due at MDI); Master is
//! entered at MDI (next advert due one second later).

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const LOWER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const HIGHER_ADDR: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

/// Master_Down_Interval of the fixture: 3 s + 156/256 s.
const MDI: u64 = 3_609_375;

#[derive(Clone, Copy)]
struct Setup {
    priority: u8,
    preempt: bool,
    version: Version,
    interval: Centisecs,
}

const DEFAULT: Setup = Setup {
    priority: 100,
    preempt: true,
    version: Version::V3,
    interval: Centisecs(100),
};

fn new_fsm(s: Setup) -> Fsm {
    Fsm::new(Params {
        version: s.version,
        priority: s.priority,
        advert_interval: s.interval,
        preempt: s.preempt,
    })
}

fn fsm_in(state: State, s: Setup) -> Fsm {
    let mut fsm = new_fsm(s);
    let mut out = Vec::new();
    if state == State::Init {
        fsm.handle(ms(0), Event::Interface(Some(LOCAL)), &mut out);
        return fsm;
    }
    fsm.handle(ms(0), Event::Interface(Some(LOCAL)), &mut out);
    fsm.handle(ms(0), Event::Startup, &mut out);
    match state {
        State::Master if fsm.state() != State::Master => {
            let due = fsm.poll_timeout().unwrap_or_default();
            fsm.handle_timeout(due, &mut out);
        }
        State::Fault => fsm.handle(ms(0), Event::Interface(None), &mut out),
        _ => {}
    }
    assert_eq!(fsm.state(), state, "fixture did not reach {state}");
    fsm
}

enum Input {
    Ev(Event),
    Timeout,
}

fn advert(src: IpAddr, priority: u8, interval_cs: u32) -> Input {
    Input::Ev(Event::Advert(AdvertIn {
        src,
        priority,
        interval: Centisecs(interval_cs),
    }))
}

fn changed(from: State, to: State, reason: Reason) -> Action {
    Action::StateChanged { from, to, reason }
}

fn send(priority: u8) -> Action {
    Action::SendAdvert { priority }
}

struct Row {
    name: &'static str,
    setup: Setup,
    from: State,
    at: Duration,
    input: Input,
    to: State,
    actions: Vec<Action>,
    next_timer: Option<Duration>,
}

fn rows() -> Vec<Row> {
    use Action::*;
    use State::*;
    let owner = Setup {
        priority: 255,
        ..DEFAULT
    };
    let no_preempt = Setup {
        preempt: false,
        ..DEFAULT
    };
    let v2 = Setup {
        version: Version::V2,
        ..DEFAULT
    };
    let fast = Setup {
        priority: 200,
        interval: Centisecs(1),
        ..DEFAULT
    };
    vec![
        Row {
            name: "startup: a non-owner listens for a master-down interval first",
            setup: DEFAULT,
            from: Init,
            at: ms(0),
            input: Input::Ev(Event::Startup),
            to: Backup,
            actions: vec![changed(Init, Backup, Reason::Startup)],
            next_timer: Some(us(MDI)),
        },
        Row {
            name: "startup: the owner (255) is master at once",
            setup: owner,
            from: Init,
            at: ms(0),
            input: Input::Ev(Event::Startup),
            to: Master,
            actions: vec![
                changed(Init, Master, Reason::Owner),
                send(255),
                AddAddresses,
                Announce,
            ],
            next_timer: Some(ms(1000)),
        },
        Row {
            name: "10 ms adverts at priority 200: down after 32.187 ms (a 2.187 ms skew)",
            setup: fast,
            from: Init,
            at: ms(0),
            input: Input::Ev(Event::Startup),
            to: Backup,
            actions: vec![changed(Init, Backup, Reason::Startup)],
            next_timer: Some(us(32_187)),
        },
        Row {
            name: "backup: timer not yet due does nothing",
            setup: DEFAULT,
            from: Backup,
            at: ms(3599),
            input: Input::Timeout,
            to: Backup,
            actions: vec![],
            next_timer: Some(us(MDI)),
        },
        Row {
            name: "backup: master-down timer makes us master: advert, addresses, announce",
            setup: DEFAULT,
            from: Backup,
            at: us(MDI),
            input: Input::Timeout,
            to: Master,
            actions: vec![
                changed(Backup, Master, Reason::MasterDownTimer),
                send(100),
                AddAddresses,
                Announce,
            ],
            next_timer: Some(us(1_000_000 + MDI)),
        },
        Row {
            name: "backup: priority 0 shortens the wait to Skew_Time",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: advert(HIGHER_ADDR, 0, 100),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(1_609_375)),
        },
        Row {
            name: "backup: a higher-priority advert resets the timer",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: advert(LOWER_ADDR, 150, 100),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(1_000_000 + MDI)),
        },
        Row {
            name: "backup: an equal-priority advert resets the timer",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: advert(LOWER_ADDR, 100, 100),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(1_000_000 + MDI)),
        },
        Row {
            name: "backup with preempt: a lower-priority advert is discarded",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: advert(HIGHER_ADDR, 50, 100),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(MDI)),
        },
        Row {
            name: "backup without preempt: a lower-priority advert resets the timer",
            setup: no_preempt,
            from: Backup,
            at: ms(1000),
            input: advert(HIGHER_ADDR, 50, 100),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(1_000_000 + MDI)),
        },
        Row {
            name: "v3 backup learns the master's interval (50 cs: down = 1500 + 304.687 ms)",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: advert(LOWER_ADDR, 150, 50),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(2_804_687)),
        },
        Row {
            name: "v2 backup does not learn the interval",
            setup: v2,
            from: Backup,
            at: ms(1000),
            input: advert(LOWER_ADDR, 150, 50),
            to: Backup,
            actions: vec![],
            next_timer: Some(us(1_000_000 + MDI)),
        },
        Row {
            name: "master: adver timer sends an advert and re-arms",
            setup: DEFAULT,
            from: Master,
            at: us(1_000_000 + MDI),
            input: Input::Timeout,
            to: Master,
            actions: vec![send(100)],
            next_timer: Some(us(2_000_000 + MDI)),
        },
        Row {
            name: "master: after a stall the next advert is one interval from now, no burst",
            setup: DEFAULT,
            from: Master,
            at: ms(9000),
            input: Input::Timeout,
            to: Master,
            actions: vec![send(100)],
            next_timer: Some(ms(10000)),
        },
        Row {
            name: "master: a higher priority preempts us; one last advert, then addresses go",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: advert(LOWER_ADDR, 150, 100),
            to: Backup,
            actions: vec![
                send(100),
                changed(Master, Backup, Reason::PreemptedByHigherPriority),
                RemoveAddresses,
            ],
            next_timer: Some(us(4_000_000 + MDI)),
        },
        Row {
            name: "master: equal priority from a greater address wins the tie; our last advert goes out",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: advert(HIGHER_ADDR, 100, 100),
            to: Backup,
            actions: vec![
                send(100),
                changed(Master, Backup, Reason::PreemptedByHigherPriority),
                RemoveAddresses,
            ],
            next_timer: Some(us(4_000_000 + MDI)),
        },
        Row {
            name: "master: equal priority from a smaller address loses; we answer",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: advert(LOWER_ADDR, 100, 100),
            to: Master,
            actions: vec![send(100)],
            next_timer: Some(ms(5000)),
        },
        Row {
            name: "master: a lower priority is answered at once (RFC 9568)",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: advert(HIGHER_ADDR, 50, 100),
            to: Master,
            actions: vec![send(100)],
            next_timer: Some(ms(5000)),
        },
        Row {
            name: "master: priority 0 from another master is answered at once",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: advert(HIGHER_ADDR, 0, 100),
            to: Master,
            actions: vec![send(100)],
            next_timer: Some(ms(5000)),
        },
        Row {
            name: "owner master keeps the role against 254",
            setup: owner,
            from: Master,
            at: ms(500),
            input: advert(HIGHER_ADDR, 254, 100),
            to: Master,
            actions: vec![send(255)],
            next_timer: Some(ms(1500)),
        },
        Row {
            name: "master: interface lost: priority 0, addresses removed, fault",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: Input::Ev(Event::Interface(None)),
            to: Fault,
            actions: vec![
                send(0),
                RemoveAddresses,
                changed(Master, Fault, Reason::InterfaceDown),
            ],
            next_timer: None,
        },
        Row {
            name: "backup: interface lost: fault, nothing to release",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: Input::Ev(Event::Interface(None)),
            to: Fault,
            actions: vec![changed(Backup, Fault, Reason::InterfaceDown)],
            next_timer: None,
        },
        Row {
            name: "fault: interface back: backup again with a fresh master-down timer",
            setup: DEFAULT,
            from: Fault,
            at: ms(5000),
            input: Input::Ev(Event::Interface(Some(LOCAL))),
            to: Backup,
            actions: vec![changed(Fault, Backup, Reason::InterfaceUp)],
            next_timer: Some(us(5_000_000 + MDI)),
        },
        Row {
            name: "fault: the owner goes straight back to master",
            setup: owner,
            from: Fault,
            at: ms(5000),
            input: Input::Ev(Event::Interface(Some(LOCAL))),
            to: Master,
            actions: vec![
                changed(Fault, Master, Reason::InterfaceUp),
                send(255),
                AddAddresses,
                Announce,
            ],
            next_timer: Some(ms(6000)),
        },
        Row {
            name: "fault: adverts are ignored",
            setup: DEFAULT,
            from: Fault,
            at: ms(1000),
            input: advert(HIGHER_ADDR, 200, 100),
            to: Fault,
            actions: vec![],
            next_timer: None,
        },
        Row {
            name: "master: shutdown sends priority 0 and removes the addresses",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: Input::Ev(Event::Shutdown),
            to: Init,
            actions: vec![
                send(0),
                RemoveAddresses,
                changed(Master, Init, Reason::Shutdown),
            ],
            next_timer: None,
        },
        Row {
            name: "backup: shutdown releases nothing",
            setup: DEFAULT,
            from: Backup,
            at: ms(1000),
            input: Input::Ev(Event::Shutdown),
            to: Init,
            actions: vec![changed(Backup, Init, Reason::Shutdown)],
            next_timer: None,
        },
        Row {
            name: "master: a priority change is advertised at once",
            setup: DEFAULT,
            from: Master,
            at: ms(4000),
            input: Input::Ev(Event::SetPriority(50)),
            to: Master,
            actions: vec![send(50)],
            next_timer: Some(ms(5000)),
        },
    ]
}

#[test]
fn state_machine_table() {
    for row in rows() {
        let mut fsm = fsm_in(row.from, row.setup);
        let mut out = Vec::new();
        match row.input {
            Input::Ev(ev) => fsm.handle(row.at, ev, &mut out),
            Input::Timeout => fsm.handle_timeout(row.at, &mut out),
        }
        assert_eq!(fsm.state(), row.to, "{}: state", row.name);
        assert_eq!(out, row.actions, "{}: actions", row.name);
        assert_eq!(
            fsm.poll_timeout(),
            row.next_timer,
            "{}: next timer",
            row.name
        );
    }
}

#[test]
fn startup_without_a_usable_interface_is_fault() {
    let mut fsm = new_fsm(DEFAULT);
    let mut out = Vec::new();
    fsm.handle(ms(0), Event::Startup, &mut out);
    assert_eq!(fsm.state(), State::Fault);
    assert_eq!(
        out,
        vec![changed(State::Init, State::Fault, Reason::InterfaceDown)]
    );
}

#[test]
fn ipv6_tie_break_compares_link_locals_as_integers() {
    let ours: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x10));
    let theirs: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x9));
    let mut fsm = new_fsm(DEFAULT);
    let mut out = Vec::new();
    fsm.handle(ms(0), Event::Interface(Some(ours)), &mut out);
    fsm.handle(ms(0), Event::Startup, &mut out);
    fsm.handle_timeout(us(MDI), &mut out);
    assert_eq!(fsm.state(), State::Master);
    let adv = |src| {
        Event::Advert(AdvertIn {
            src,
            priority: 100,
            interval: Centisecs(100),
        })
    };
    fsm.handle(ms(4000), adv(theirs), &mut out);
    assert_eq!(fsm.state(), State::Master, "::9 < ::10: we keep the role");
    let greater = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 1, 0));
    fsm.handle(ms(4100), adv(greater), &mut out);
    assert_eq!(fsm.state(), State::Backup, "::1:0 > ::10: we yield");
    assert_eq!(fsm.master_address(), Some(greater));
}

#[test]
fn raised_priority_lets_a_preempting_backup_take_over() {
    let mut fsm = fsm_in(State::Backup, DEFAULT);
    let mut out = Vec::new();
    fsm.handle(ms(100), Event::SetPriority(200), &mut out);
    assert!(out.is_empty());
    // The master at 150 is now worse than us: its adverts no longer hold our timer back.
    fsm.handle(
        ms(1000),
        Event::Advert(AdvertIn {
            src: LOWER_ADDR,
            priority: 150,
            interval: Centisecs(100),
        }),
        &mut out,
    );
    assert_eq!(fsm.poll_timeout(), Some(us(MDI)));
    fsm.handle_timeout(us(MDI), &mut out);
    assert_eq!(fsm.state(), State::Master);
    assert!(out.contains(&send(200)));
}

#[test]
fn master_address_tracks_the_role() {
    let mut fsm = fsm_in(State::Backup, DEFAULT);
    assert_eq!(fsm.master_address(), None);
    let mut out = Vec::new();
    fsm.handle(
        ms(10),
        Event::Advert(AdvertIn {
            src: HIGHER_ADDR,
            priority: 200,
            interval: Centisecs(100),
        }),
        &mut out,
    );
    assert_eq!(fsm.master_address(), Some(HIGHER_ADDR));
    fsm.handle_timeout(us(10_000 + MDI), &mut out);
    assert_eq!(fsm.state(), State::Master);
    assert_eq!(fsm.master_address(), Some(LOCAL));
    fsm.handle(ms(5000), Event::Interface(None), &mut out);
    assert_eq!(fsm.master_address(), None);
}

#[test]
fn after_priority_zero_the_best_backup_fires_first() {
    // Skew makes the higher-priority backup's timer shorter.
    let mut high = fsm_in(
        State::Backup,
        Setup {
            priority: 200,
            ..DEFAULT
        },
    );
    let mut low = fsm_in(
        State::Backup,
        Setup {
            priority: 50,
            ..DEFAULT
        },
    );
    let mut out = Vec::new();
    let release = Event::Advert(AdvertIn {
        src: HIGHER_ADDR,
        priority: 0,
        interval: Centisecs(100),
    });
    high.handle(ms(1000), release, &mut out);
    low.handle(ms(1000), release, &mut out);
    let (h, l) = (high.poll_timeout(), low.poll_timeout());
    assert_eq!(
        h,
        Some(us(1_000_000 + 218_750)),
        "skew(200) = 56 * 1 s / 256"
    );
    assert_eq!(
        l,
        Some(us(1_000_000 + 804_687)),
        "skew(50) = 206 * 1 s / 256"
    );
}

#[test]
fn a_planned_handover_is_logged_apart_from_a_crash() {
    let release = Event::Advert(AdvertIn {
        src: HIGHER_ADDR,
        priority: 0,
        interval: Centisecs(100),
    });
    let normal = Event::Advert(AdvertIn {
        src: HIGHER_ADDR,
        priority: 200,
        interval: Centisecs(100),
    });
    let reason_of_takeover = |events: &[Event]| {
        let mut fsm = fsm_in(State::Backup, DEFAULT);
        let mut out = Vec::new();
        for (n, e) in events.iter().enumerate() {
            fsm.handle(ms(100 * n as u64), *e, &mut out);
        }
        out.clear();
        let due = fsm.poll_timeout().expect("master-down timer armed");
        fsm.handle_timeout(due, &mut out);
        out.iter().find_map(|a| match a {
            Action::StateChanged { to, reason, .. } if *to == State::Master => Some(*reason),
            _ => None,
        })
    };
    assert_eq!(reason_of_takeover(&[release]), Some(Reason::MasterReleased));
    assert_eq!(reason_of_takeover(&[]), Some(Reason::MasterDownTimer));
    // The master came back after all and then went silent: a crash again.
    assert_eq!(
        reason_of_takeover(&[release, normal]),
        Some(Reason::MasterDownTimer)
    );
}
