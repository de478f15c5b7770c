//! The signals the agent handles.

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// The signals the agent acts on. Every signal an operator or a keepalived-era tool may
/// send has a handler, so none of them kills the agent without its clean exit (which would
/// leave the addresses on this host while a backup takes them too). SIGPIPE is ignored by
/// the Rust runtime before `main`.
pub enum Signal {
    /// SIGTERM, SIGINT: release and exit.
    Stop,
    /// SIGHUP.
    Reload,
    /// SIGUSR1: every instance's state to the log (keepalived writes a data file).
    DumpStatus,
    /// SIGUSR2: every instance's counters to the log (keepalived writes a stats file).
    DumpCounters,
    Ignored(&'static str),
}

/// The signals, as one channel: the loop polls one receiver per turn, not six (it turns
/// for every advert).
pub struct Signals {
    rx: mpsc::Receiver<Signal>,
}

struct Streams {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
    alrm: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers (on the current runtime).
    pub fn new() -> Result<Signals, String> {
        let mut streams = Streams::new()?;
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            loop {
                let signal = streams.next().await;
                if tx.send(signal).await.is_err() {
                    return;
                }
            }
        });
        Ok(Signals { rx })
    }

    pub async fn next(&mut self) -> Signal {
        match self.rx.recv().await {
            Some(signal) => signal,
            None => std::future::pending().await,
        }
    }
}

impl Streams {
    fn new() -> Result<Streams, String> {
        let listen = |kind: SignalKind| {
            signal(kind).map_err(|e| format!("cannot install a signal handler: {e}"))
        };
        Ok(Streams {
            term: listen(SignalKind::terminate())?,
            int: listen(SignalKind::interrupt())?,
            hup: listen(SignalKind::hangup())?,
            usr1: listen(SignalKind::user_defined1())?,
            usr2: listen(SignalKind::user_defined2())?,
            alrm: listen(SignalKind::alarm())?,
        })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
            _ = self.usr1.recv() => Signal::DumpStatus,
            _ = self.usr2.recv() => Signal::DumpCounters,
            _ = self.alrm.recv() => Signal::Ignored("SIGALRM"),
        }
    }
}
