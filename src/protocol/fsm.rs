//! The VRRP state machine for one virtual router (one VRID, one family, one interface).
//!
//! Sans-IO in the style of quinn-proto: no sockets, clocks or tasks. The driver feeds
//! [`Event`]s together with the current time (`now`, a monotonic [`Duration`] from any fixed
//! origin), fires [`Fsm::handle_timeout`] when [`Fsm::poll_timeout`] says so, and carries out
//! the returned [`Action`]s. Actions are appended to a caller-owned buffer so the steady state
//! (an advert in, nothing out) allocates nothing.
//!
//! Rules follow RFC 9568 section 6.4, with the points in `vrrp-notes.md`: integer centisecond
//! timers, skew by priority, VRRPv3 interval learning, owner priority 255, priority 0 on
//! release, preemption, tie-break on the primary address, and a FAULT state for an interface
//! that cannot carry VRRP (no carrier or no primary address).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::protocol::units::{Centisecs, Version, master_down_interval, skew_time};

/// Priority of the router that owns the virtual addresses: it takes over at once.
pub const OWNER_PRIORITY: u8 = 255;
/// Priority carried by a master that is giving up the role.
pub const RELEASE_PRIORITY: u8 = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not started, or shut down.
    Init,
    Backup,
    Master,
    /// The interface cannot carry VRRP (no carrier or no primary address).
    Fault,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "init",
            State::Backup => "backup",
            State::Master => "master",
            State::Fault => "fault",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a state changed; logged as `reason=...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Startup,
    /// Priority 255: the address owner needs no election.
    #[serde(rename = "address_owner")]
    Owner,
    MasterDownTimer,
    /// The master said it was leaving (priority 0) and this backup's skew ran out first: a
    /// planned handover, not a crash.
    MasterReleased,
    /// A master heard a better advert (higher priority, or equal and a greater address).
    #[serde(rename = "higher_priority_advert")]
    PreemptedByHigherPriority,
    InterfaceDown,
    InterfaceUp,
    /// A tracked object failed with weight 0 (FAULT), or the fault it caused cleared.
    TrackFault,
    TrackRecovered,
    /// Another member of this instance's sync group moved, and took this one along.
    SyncGroup,
    Shutdown,
    /// A reload removed the instance (or changed what it is: interface, VRID, family,
    /// version).
    Removed,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Startup => "startup",
            Reason::Owner => "address_owner",
            Reason::MasterDownTimer => "master_down_timer",
            Reason::MasterReleased => "master_released",
            Reason::PreemptedByHigherPriority => "higher_priority_advert",
            Reason::InterfaceDown => "interface_down",
            Reason::InterfaceUp => "interface_up",
            Reason::TrackFault => "track_fault",
            Reason::TrackRecovered => "track_recovered",
            Reason::SyncGroup => "sync_group",
            Reason::Shutdown => "shutdown",
            Reason::Removed => "removed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Static settings of one virtual router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub version: Version,
    /// Configured priority; the effective priority starts here and may change at run time.
    pub priority: u8,
    pub advert_interval: Centisecs,
    pub preempt: bool,
}

/// A received advertisement that passed packet validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertIn {
    /// The sender's primary address (IPv4) or link-local (IPv6): the tie-break key.
    pub src: IpAddr,
    pub priority: u8,
    pub interval: Centisecs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The agent joins the election (after the interface state is known).
    Startup,
    /// The interface's usability changed: `Some(primary)` when it has carrier and a primary
    /// address (IPv4 primary or IPv6 link-local), `None` otherwise.
    Interface(Option<IpAddr>),
    Advert(AdvertIn),
    /// The effective priority changed (health tracking). 1..=255.
    SetPriority(u8),
    /// Whether a backup may preempt a worse master now (`preempt` and its delay).
    SetPreempt(bool),
    /// A reload changed the advert interval: a master sends at the new rhythm from its next
    /// advert on; a backup's running timer is left alone.
    SetAdvertInterval(Centisecs),
    /// Sync group: a master steps down to backup (priority 0, addresses removed).
    StepDown,
    /// Sync group: a backup whose master-down timer ran out waits for its group instead of
    /// taking over; it remembers that it is due ([`Fsm::takeover_due`]).
    HoldTakeover,
    /// Sync group: the whole group is due; a backup takes over now.
    TakeOver,
    /// The agent is stopping: a master releases the addresses with priority 0.
    Shutdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one advertisement with this priority (0 = releasing the master role).
    SendAdvert { priority: u8 },
    /// Install the virtual addresses on the interface.
    AddAddresses,
    /// Remove the virtual addresses from the interface.
    RemoveAddresses,
    /// Announce the virtual addresses (gratuitous ARP / unsolicited NA) after takeover.
    Announce,
    StateChanged {
        from: State,
        to: State,
        reason: Reason,
    },
}

#[derive(Clone, Debug)]
pub struct Fsm {
    params: Params,
    state: State,
    effective_priority: u8,
    /// Our tie-break address while the interface is usable.
    local_addr: Option<IpAddr>,
    /// The master's interval: our own until a VRRPv3 master tells us its own.
    master_adver_interval: Centisecs,
    /// Who we believe is master (ourselves while master).
    master_addr: Option<IpAddr>,
    master_down_at: Option<Duration>,
    /// The running master-down timer is the short one a priority-0 advert set.
    master_released: bool,
    /// A backup whose master-down timer ran out but that holds back for its sync group.
    takeover_due: bool,
    adver_at: Option<Duration>,
}

impl Fsm {
    pub fn new(params: Params) -> Fsm {
        Fsm {
            effective_priority: params.priority,
            master_adver_interval: params.advert_interval,
            params,
            state: State::Init,
            local_addr: None,
            master_addr: None,
            master_down_at: None,
            master_released: false,
            takeover_due: false,
            adver_at: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    pub fn master_address(&self) -> Option<IpAddr> {
        self.master_addr
    }

    /// A backup held back by its sync group: it would have taken over.
    pub fn takeover_due(&self) -> bool {
        self.takeover_due
    }

    pub fn master_adver_interval(&self) -> Centisecs {
        self.master_adver_interval
    }

    /// The interval that takes a silent master for dead, from our current view.
    pub fn master_down_interval(&self) -> Duration {
        master_down_interval(self.effective_priority, self.master_adver_interval)
    }

    /// The earliest time at which [`Fsm::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.state {
            State::Backup => self.master_down_at,
            State::Master => self.adver_at,
            State::Init | State::Fault => None,
        }
    }

    pub fn handle(&mut self, now: Duration, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::Startup => self.on_startup(now, out),
            Event::Interface(addr) => self.on_interface(now, addr, out),
            Event::Advert(adv) => self.on_advert(now, adv, out),
            Event::SetPriority(p) => self.on_set_priority(now, p, out),
            Event::SetPreempt(on) => self.params.preempt = on,
            Event::SetAdvertInterval(interval) => self.on_set_interval(interval),
            Event::StepDown => self.on_step_down(now, out),
            Event::HoldTakeover => self.on_hold(),
            Event::TakeOver => self.on_take_over(now, out),
            Event::Shutdown => self.on_shutdown(out),
        }
    }

    /// Fire the timer that is due, if any.
    pub fn handle_timeout(&mut self, now: Duration, out: &mut Vec<Action>) {
        match self.state {
            State::Backup if self.master_down_at.is_some_and(|t| t <= now) => {
                let reason = if self.master_released {
                    Reason::MasterReleased
                } else {
                    Reason::MasterDownTimer
                };
                self.become_master(now, reason, out);
            }
            State::Master => {
                if let Some(due) = self.adver_at.filter(|t| *t <= now) {
                    out.push(Action::SendAdvert {
                        priority: self.effective_priority,
                    });
                    // Keep the cadence anchored to the schedule, but never queue a burst
                    // after a stall: the next advert is at least one interval away from now.
                    let next = due + self.params.advert_interval.to_duration();
                    self.adver_at = Some(if next > now {
                        next
                    } else {
                        now + self.params.advert_interval.to_duration()
                    });
                }
            }
            _ => {}
        }
    }

    fn on_set_interval(&mut self, interval: Centisecs) {
        self.params.advert_interval = interval;
        // A master advertises its own interval; a VRRPv2 backup has no other to go by.
        if self.state == State::Master || self.params.version == Version::V2 {
            self.master_adver_interval = interval;
        }
    }

    fn on_startup(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.state != State::Init {
            return;
        }
        if self.local_addr.is_none() {
            self.transition(State::Fault, Reason::InterfaceDown, out);
        } else {
            self.join(now, Reason::Startup, out);
        }
    }

    /// Enter the election: the owner takes over at once, everyone else listens first.
    fn join(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        if self.effective_priority == OWNER_PRIORITY {
            let reason = if reason == Reason::Startup {
                Reason::Owner
            } else {
                reason
            };
            self.become_master(now, reason, out);
        } else {
            self.master_adver_interval = self.params.advert_interval;
            self.master_addr = None;
            self.become_backup(now, self.master_down_interval(), reason, out);
        }
    }

    fn on_interface(&mut self, now: Duration, addr: Option<IpAddr>, out: &mut Vec<Action>) {
        self.local_addr = addr;
        match (self.state, addr) {
            (State::Fault, Some(_)) => self.join(now, Reason::InterfaceUp, out),
            (State::Master | State::Backup, None) => {
                self.release(out);
                self.transition(State::Fault, Reason::InterfaceDown, out);
            }
            (State::Master, Some(a)) => self.master_addr = Some(a),
            _ => {}
        }
    }

    fn on_advert(&mut self, now: Duration, adv: AdvertIn, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => self.backup_advert(now, adv),
            State::Master => self.master_advert(now, adv, out),
            State::Init | State::Fault => {}
        }
    }

    fn backup_advert(&mut self, now: Duration, adv: AdvertIn) {
        if adv.priority == RELEASE_PRIORITY {
            // The master is leaving: wait only our skew, so the best backup goes first.
            let skew = skew_time(self.effective_priority, self.master_adver_interval);
            self.master_down_at = Some(now + skew);
            self.master_released = true;
            self.takeover_due = false;
        } else if !self.params.preempt || adv.priority >= self.effective_priority {
            self.learn_master(adv);
            self.master_down_at = Some(now + self.master_down_interval());
            self.master_released = false;
            self.takeover_due = false;
        }
        // Else: preempt is on and the sender is worse than us. Ignoring it lets the
        // master-down timer expire so that we take over.
    }

    fn master_advert(&mut self, now: Duration, adv: AdvertIn, out: &mut Vec<Action>) {
        if adv.priority == RELEASE_PRIORITY {
            // Another master is leaving; make sure the backups hear from us at once.
            self.send_now(now, out);
        } else if self.loses_to(&adv) {
            // Our last word as master: if this is a split brain healing, the winner may
            // never have heard us (its advert crossed first). Hearing a worse master makes it
            // answer and re-announce (vipd and keepalived both do), so clients that followed
            // us come back at once rather than when their neighbour entry times out.
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
            self.learn_master(adv);
            self.become_backup(
                now,
                self.master_down_interval(),
                Reason::PreemptedByHigherPriority,
                out,
            );
            out.push(Action::RemoveAddresses);
        } else {
            // RFC 9568: a master that hears a worse advert answers it at once, so that the
            // other side (which may have missed our adverts) steps down without waiting.
            self.send_now(now, out);
        }
    }

    /// RFC 9568 6.4.3: higher priority wins; equal priority is broken by the greater primary
    /// address, compared as an unsigned integer in network byte order.
    fn loses_to(&self, adv: &AdvertIn) -> bool {
        if adv.priority != self.effective_priority {
            return adv.priority > self.effective_priority;
        }
        match (self.local_addr, adv.src) {
            (Some(IpAddr::V4(ours)), IpAddr::V4(theirs)) => theirs.to_bits() > ours.to_bits(),
            (Some(IpAddr::V6(ours)), IpAddr::V6(theirs)) => theirs.to_bits() > ours.to_bits(),
            _ => false,
        }
    }

    fn learn_master(&mut self, adv: AdvertIn) {
        self.master_addr = Some(adv.src);
        // Only VRRPv3 learns the interval; VRRPv2 drops adverts whose interval differs.
        if self.params.version == Version::V3 {
            self.master_adver_interval = adv.interval;
        }
    }

    fn on_set_priority(&mut self, now: Duration, priority: u8, out: &mut Vec<Action>) {
        let priority = priority.max(1);
        if priority == self.effective_priority {
            return;
        }
        self.effective_priority = priority;
        if self.state == State::Master {
            // Tell the backups now, so a better one can preempt without waiting a cycle.
            self.send_now(now, out);
        }
    }

    fn on_step_down(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.state != State::Master {
            return;
        }
        self.release(out);
        self.master_addr = None;
        self.become_backup(now, self.master_down_interval(), Reason::SyncGroup, out);
    }

    fn on_hold(&mut self) {
        if self.state == State::Backup {
            self.master_down_at = None;
            self.takeover_due = true;
        }
    }

    fn on_take_over(&mut self, now: Duration, out: &mut Vec<Action>) {
        if self.state == State::Backup {
            self.become_master(now, Reason::SyncGroup, out);
        }
    }

    fn on_shutdown(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Init {
            return;
        }
        self.release(out);
        self.master_addr = None;
        self.transition(State::Init, Reason::Shutdown, out);
    }

    /// A master giving up the role for a local reason says so with priority 0 and removes
    /// the addresses.
    fn release(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Master {
            out.push(Action::SendAdvert {
                priority: RELEASE_PRIORITY,
            });
            out.push(Action::RemoveAddresses);
        }
    }

    fn become_master(&mut self, now: Duration, reason: Reason, out: &mut Vec<Action>) {
        self.transition(State::Master, reason, out);
        self.master_addr = self.local_addr;
        self.master_adver_interval = self.params.advert_interval;
        // Advert first: it is what stops the other backups' timers.
        self.send_now(now, out);
        out.push(Action::AddAddresses);
        out.push(Action::Announce);
    }

    fn become_backup(
        &mut self,
        now: Duration,
        down: Duration,
        reason: Reason,
        out: &mut Vec<Action>,
    ) {
        self.transition(State::Backup, reason, out);
        self.adver_at = None;
        self.master_down_at = Some(now + down);
    }

    fn send_now(&mut self, now: Duration, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert {
            priority: self.effective_priority,
        });
        self.adver_at = Some(now + self.params.advert_interval.to_duration());
    }

    fn transition(&mut self, to: State, reason: Reason, out: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        if to != State::Backup {
            self.master_down_at = None;
        }
        self.master_released = false;
        self.takeover_due = false;
        if to != State::Master {
            self.adver_at = None;
        }
        if matches!(to, State::Fault | State::Init) {
            self.master_addr = None;
        }
        out.push(Action::StateChanged { from, to, reason });
    }
}

#[cfg(test)]
mod tests;
