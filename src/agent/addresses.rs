//! Address changes on their way to the kernel. When hundreds of instances take over at once,
//! the loop must not wait a kernel round trip per address: every add and remove is sent at
//! once, in the node's order (the kernel answers in that order too), and the loop goes on
//! sending adverts while the answers come back. An instance's announcement waits for its own
//! adds, so no client is sent to this host before the address is on it.

use std::collections::HashMap;
use std::io;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::agent::netlink::{Added, Netlink};
use crate::config::VirtualAddress;
use crate::protocol::node::InstanceId;

/// One answered request.
pub enum Done {
    Added {
        instance: InstanceId,
        address: VirtualAddress,
        result: io::Result<Added>,
    },
    Removed {
        instance: InstanceId,
        address: VirtualAddress,
        result: io::Result<()>,
    },
}

/// An announcement held back until its instance's addresses are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Announce {
    pub ifindex: u32,
    pub mac: [u8; 6],
    pub count: u8,
}

type InFlight = std::pin::Pin<Box<dyn std::future::Future<Output = Done> + Send>>;

#[derive(Default)]
pub struct AddressOps {
    in_flight: FuturesUnordered<InFlight>,
    /// Adds not yet answered, by instance.
    adding: HashMap<InstanceId, usize>,
    held_back: HashMap<InstanceId, Announce>,
}

impl AddressOps {
    pub fn add(
        &mut self,
        netlink: &Netlink,
        instance: InstanceId,
        ifindex: u32,
        address: VirtualAddress,
    ) {
        let sent = netlink.add_address(ifindex, address.addr, address.prefix_len);
        *self.adding.entry(instance).or_default() += 1;
        self.in_flight.push(Box::pin(async move {
            Done::Added {
                instance,
                address,
                result: sent.await,
            }
        }));
    }

    pub fn remove(
        &mut self,
        netlink: &Netlink,
        instance: InstanceId,
        ifindex: u32,
        address: VirtualAddress,
    ) {
        let sent = netlink.del_address(ifindex, address.addr, address.prefix_len);
        self.in_flight.push(Box::pin(async move {
            Done::Removed {
                instance,
                address,
                result: sent.await,
            }
        }));
    }

    /// `announce` for `instance`, now if none of its adds is waiting for an answer; held
    /// back otherwise, and given back by [`AddressOps::answered`] with the last of them.
    /// Of two held back, the larger burst stays.
    pub fn announce(&mut self, instance: InstanceId, announce: Announce) -> Option<Announce> {
        if !self.adding.contains_key(&instance) {
            return Some(announce);
        }
        let held = self.held_back.entry(instance).or_insert(announce);
        if announce.count > held.count {
            *held = announce;
        }
        None
    }

    /// The next answer; never, while nothing is on its way.
    pub async fn next(&mut self) -> Done {
        match self.in_flight.next().await {
            Some(done) => done,
            None => std::future::pending().await,
        }
    }

    /// Book `done` in; the announcement it releases, if it was its instance's last add.
    pub fn answered(&mut self, done: &Done) -> Option<(InstanceId, Announce)> {
        let Done::Added { instance, .. } = *done else {
            return None;
        };
        let left = self.adding.get_mut(&instance)?;
        *left -= 1;
        if *left > 0 {
            return None;
        }
        self.adding.remove(&instance);
        self.held_back.remove(&instance).map(|a| (instance, a))
    }

    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
    }
}
