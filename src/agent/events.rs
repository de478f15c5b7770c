//! The live event stream behind `vipd events`: the event loop publishes every event to an
//! [`EventHub`]; clients that sent the request line `events` on the control socket receive
//! them, one JSON object per line, until they disconnect.
//!
//! The agent never waits for a subscriber: [`EventHub::publish`] serialises the event once
//! and appends the shared line to each subscriber's bounded queue; a subscriber whose queue
//! is full is cut off (and counted) rather than slowing the agent or growing its memory.

use std::collections::VecDeque;
use std::io::{self, Write as _};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::Notify;

/// Subscribers served at once; more get one error line and are closed.
pub const MAX_SUBSCRIBERS: usize = 16;
/// A subscriber's queue holds at most this many lines and this many bytes; one more and the
/// subscriber is cut off. Lines are shared between subscribers, so all queues together never
/// hold more than this much distinct event text. Large enough for a burst from every
/// instance at once (an interface carrying 100 instances going down).
pub const QUEUE_LINES: usize = 1024;
pub const QUEUE_BYTES: usize = 256 * 1024;
/// A write to a subscriber that does not complete in this time cuts it off.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a refused or cut-off subscriber's error line may take to write.
const ERROR_TIMEOUT: Duration = Duration::from_secs(1);
/// Queued lines are copied into one write of at most about this size.
const BATCH_BYTES: usize = 16 * 1024;
/// The kernel's send buffer for a subscriber (it doubles it for bookkeeping): bounds what a
/// stalled reader pins in the kernel and gets it cut off sooner.
const SEND_BUFFER: usize = 64 * 1024;
/// After a subscriber shut down its sending side, how often to look whether it is gone.
const HANGUP_CHECK: Duration = Duration::from_secs(5);

/// The agent's event bus: cheap to clone (all clones share it), owned by the event loop.
///
/// [`publish`](EventHub::publish) stamps an event with the wall-clock time and hands it to
/// every subscriber of `vipd events` (the control socket's `events` request). It never
/// blocks, never waits for a subscriber, and serialises each event once into a line that all
/// subscribers share.
///
/// # The stream (`vipd events --json`)
/// One JSON object per line (`\n`-terminated), in publication order:
/// - `"time"`, always the first field: the publication time, RFC 3339 UTC with milliseconds,
///   e.g. `"2026-12-01T10:00:00.123Z"`;
/// - `"event"`: the kind, then the kind's fields (states and reasons in lower case, as in
///   `vipd status --json`):
///   - `state_change`: `instance`, `from`, `to` (`init` `backup` `master` `fault`),
///     `reason` (`startup` `address_owner` `master_down_timer` `master_released`
///     `higher_priority_advert` `interface_down` `interface_up` `track_fault`
///     `track_recovered` `sync_group` `shutdown`), `priority` (configured),
///     `effective_priority`;
///   - `priority_change`: `instance`, `from`, `to` (effective priorities);
///   - `track_change`: `track`, `healthy` (bool), `result` (null, or
///     `{"result": "passed"}`, `{"result": "failed", "reason": "..."}`,
///     `{"result": "value", "value": N}`);
///   - `master_conflict`: `instance`, `peer` (address), `peer_priority`, `priority`;
///   - `address_vanished`, `leftover_removed`, `host_address`: `instance`, `address`
///     (`addr/prefix`); `address_list_mismatch`: `instance`, `src`, `count`;
///     `foreign_advert`: `instance`, `vrid`, `src`, `count`;
///   - new kinds and fields may be added: consumers ignore what they do not know.
///
/// A line without `"event"` but with `"error"` is the agent's last word on this connection:
/// too many subscribers (at most [`MAX_SUBSCRIBERS`]), or this subscriber fell behind (its
/// queue of [`QUEUE_LINES`] lines / [`QUEUE_BYTES`] bytes overflowed, or a write took longer
/// than [`WRITE_TIMEOUT`]) and is cut off. The agent closes the stream when it stops.
#[derive(Clone, Default)]
pub struct EventHub {
    shared: Arc<Mutex<Hub>>,
}

/// Counters for `vipd status --json` (`"events"`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EventStats {
    /// Subscribers connected now.
    pub subscribers: u64,
    /// Events published since start (whether anyone listened or not).
    pub published: u64,
    /// Subscribers cut off because they did not keep up.
    pub dropped_subscribers: u64,
}

/// One serialised event, shared by every queue it is in.
type Line = Arc<String>;

#[derive(Default)]
struct Hub {
    subscribers: Vec<Sub>,
    next_id: u64,
    published: u64,
    dropped: u64,
    closed: bool,
}

struct Sub {
    id: u64,
    queue: VecDeque<Line>,
    bytes: usize,
    end: Option<End>,
    wake: Arc<Notify>,
}

/// Why a subscription ends from the agent's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Its queue overflowed or a write timed out.
    TooSlow,
    /// The agent stops: flush what is queued, then close.
    Shutdown,
}

/// What a subscriber's task finds in its queue.
enum Take {
    Lines,
    Idle,
    End(End),
}

impl EventHub {
    pub fn new() -> EventHub {
        EventHub::default()
    }

    fn hub(&self) -> MutexGuard<'_, Hub> {
        // Nothing panics while holding the lock; were it poisoned, the data is still sound.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stamp `event` (which serialises to a JSON object) with the current wall-clock time as
    /// its first field `"time"` and queue it for every subscriber. Never blocks.
    pub fn publish<E: Serialize>(&self, event: &E) {
        {
            let mut hub = self.hub();
            hub.published += 1;
            if hub.closed || hub.subscribers.is_empty() {
                return;
            }
        }
        let line = match serialise(event, SystemTime::now()) {
            Ok(line) => Arc::new(line),
            Err(e) => {
                tracing::warn!(error = %e, "event not published: it does not serialise");
                return;
            }
        };
        let mut hub = self.hub();
        let mut cut = 0;
        for sub in hub.subscribers.iter_mut().filter(|s| s.end.is_none()) {
            if sub.queue.len() >= QUEUE_LINES || sub.bytes + line.len() > QUEUE_BYTES {
                sub.end = Some(End::TooSlow);
                sub.queue = VecDeque::new();
                sub.bytes = 0;
                cut += 1;
            } else {
                sub.queue.push_back(line.clone());
                sub.bytes += line.len();
            }
            sub.wake.notify_one();
        }
        if cut > 0 {
            hub.dropped += cut;
            tracing::warn!(
                cut,
                queue_lines = QUEUE_LINES,
                queue_bytes = QUEUE_BYTES,
                "event subscriber fell behind; cut off"
            );
        }
    }

    pub fn stats(&self) -> EventStats {
        let hub = self.hub();
        EventStats {
            subscribers: hub.subscribers.iter().filter(|s| s.end.is_none()).count() as u64,
            published: hub.published,
            dropped_subscribers: hub.dropped,
        }
    }

    /// At shutdown, after the last event: every subscriber gets what is queued for it, then
    /// the end of the stream. Returns when they all have, or after `within`.
    pub async fn close(&self, within: Duration) {
        {
            let mut hub = self.hub();
            hub.closed = true;
            for sub in &mut hub.subscribers {
                sub.end.get_or_insert(End::Shutdown);
                sub.wake.notify_one();
            }
        }
        let deadline = tokio::time::Instant::now() + within;
        while !self.hub().subscribers.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A new subscriber, or why not.
    fn subscribe(&self) -> Result<Subscription, String> {
        let mut hub = self.hub();
        if hub.closed {
            return Err("the agent is shutting down".to_owned());
        }
        if hub.subscribers.len() >= MAX_SUBSCRIBERS {
            return Err(format!(
                "too many event subscribers (at most {MAX_SUBSCRIBERS} at once); try again later"
            ));
        }
        let id = hub.next_id;
        hub.next_id += 1;
        let wake = Arc::new(Notify::new());
        hub.subscribers.push(Sub {
            id,
            queue: VecDeque::new(),
            bytes: 0,
            end: None,
            wake: wake.clone(),
        });
        Ok(Subscription {
            hub: self.clone(),
            id,
            wake,
        })
    }

    /// Move queued lines (up to about [`BATCH_BYTES`]) into `batch`.
    fn take(&self, id: u64, batch: &mut Vec<u8>) -> Take {
        let mut hub = self.hub();
        let Some(sub) = hub.subscribers.iter_mut().find(|s| s.id == id) else {
            return Take::End(End::Shutdown);
        };
        if sub.queue.is_empty() {
            return sub.end.map_or(Take::Idle, Take::End);
        }
        while let Some(line) = sub.queue.front() {
            if !batch.is_empty() && batch.len() + line.len() > BATCH_BYTES {
                break;
            }
            batch.extend_from_slice(line.as_bytes());
            sub.bytes -= line.len();
            sub.queue.pop_front();
        }
        Take::Lines
    }

    /// A write to subscriber `id` timed out: it is cut off (counted once).
    fn too_slow(&self, id: u64) {
        let mut hub = self.hub();
        let mut counted = false;
        if let Some(sub) = hub.subscribers.iter_mut().find(|s| s.id == id)
            && sub.end.is_none()
        {
            sub.end = Some(End::TooSlow);
            sub.queue = VecDeque::new();
            sub.bytes = 0;
            counted = true;
        }
        if counted {
            hub.dropped += 1;
            tracing::warn!(timeout = ?WRITE_TIMEOUT, "event subscriber stopped reading; cut off");
        }
    }
}

/// A registered subscriber; unregisters when dropped (also when its task is cancelled).
struct Subscription {
    hub: EventHub,
    id: u64,
    wake: Arc<Notify>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.hub().subscribers.retain(|s| s.id != self.id);
    }
}

/// `{"time":"…",<the event's fields>}\n`.
fn serialise<E: Serialize>(event: &E, now: SystemTime) -> serde_json::Result<String> {
    let mut line = Vec::with_capacity(192);
    line.extend_from_slice(b"{\"time\":\"");
    write_rfc3339_millis(&mut line, now);
    line.push(b'"');
    let body = line.len();
    serde_json::to_writer(&mut line, event)?;
    if line[body..] == *b"{}" {
        line.truncate(body);
        line.push(b'}');
    } else if line[body] == b'{' {
        line[body] = b',';
    } else {
        // Not an object: kept whole under "data" rather than lost.
        line.splice(body..body, b",\"data\":".iter().copied());
        line.push(b'}');
    }
    line.push(b'\n');
    // serde_json writes UTF-8, and so does the time stamp.
    String::from_utf8(line).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

/// RFC 3339 in UTC with milliseconds: `2026-12-01T10:00:00.123Z`. Times before 1970 (a
/// clock set very wrong) are written as the epoch.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let mut out = Vec::with_capacity(24);
    write_rfc3339_millis(&mut out, t);
    String::from_utf8_lossy(&out).into_owned()
}

fn write_rfc3339_millis(out: &mut Vec<u8>, t: SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    );
}

/// (year, month, day) of the day `days` after 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Serve the `events` request on `stream`: subscribe, then send every published line until
/// the client goes away, falls behind, or the agent stops. A refused subscriber gets one
/// error line. `slot`, the control client's place, is given back once subscribed: a subscriber
/// is outside the status requests' client limit and timeout.
pub(crate) async fn serve_subscriber<Slot>(stream: UnixStream, hub: EventHub, slot: Slot) {
    let sub = match hub.subscribe() {
        Ok(sub) => sub,
        Err(e) => {
            let (_, mut write) = stream.into_split();
            let _ = tokio::time::timeout(ERROR_TIMEOUT, send_error(&mut write, &e)).await;
            return;
        }
    };
    drop(slot);
    if let Err(e) = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER) {
        tracing::debug!(error = %e, "cannot size an event subscriber's send buffer");
    }
    let (mut read, mut write) = stream.into_split();
    let mut batch = Vec::new();
    let mut scratch = [0u8; 256];
    let mut reading = true;
    loop {
        batch.clear();
        match sub.hub.take(sub.id, &mut batch) {
            Take::Lines => {
                match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(&batch)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "event subscriber gone");
                        return;
                    }
                    Err(_) => {
                        sub.hub.too_slow(sub.id);
                        return;
                    }
                }
            }
            Take::End(End::TooSlow) => {
                let why = format!(
                    "this subscriber did not keep up (more than {QUEUE_LINES} lines or \
                     {QUEUE_BYTES} bytes waiting, or a write blocked for {WRITE_TIMEOUT:?}); \
                     cut off"
                );
                let _ = tokio::time::timeout(ERROR_TIMEOUT, send_error(&mut write, &why)).await;
                return;
            }
            Take::End(End::Shutdown) => {
                let _ = tokio::time::timeout(ERROR_TIMEOUT, write.shutdown()).await;
                return;
            }
            Take::Idle => tokio::select! {
                _ = sub.wake.notified() => {}
                got = read.read(&mut scratch), if reading => match got {
                    // Gone, or only done sending (`nc -N`): the stream goes on in that case.
                    Ok(0) => {
                        reading = false;
                        if hung_up(&write) {
                            return;
                        }
                    }
                    // Anything it sends after the request is ignored.
                    Ok(_) => {}
                    Err(_) => return,
                },
                _ = tokio::time::sleep(HANGUP_CHECK), if !reading => {
                    if hung_up(&write) {
                        return;
                    }
                }
            },
        }
    }
}

/// The peer closed its end completely (not just its sending side).
fn hung_up(write: &OwnedWriteHalf) -> bool {
    let mut fd = libc::pollfd {
        fd: write.as_ref().as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a descriptor the stream owns; zero timeout.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR) != 0
}

async fn send_error(write: &mut OwnedWriteHalf, error: &str) -> io::Result<()> {
    // The time first, as in every line.
    let line = format!(
        "{{\"time\":\"{}\",\"error\":{}}}\n",
        rfc3339_millis(SystemTime::now()),
        Value::from(error)
    );
    write.write_all(line.as_bytes()).await?;
    write.shutdown().await
}

// ---------------------------------------------------------------------------------------------
// Client side: `vipd events`.

/// A line longer than this from the agent is an error, not a reason to grow without bound.
const MAX_LINE: u64 = 1 << 20;

/// Client side: subscribe to the agent at `path` and print each event as it comes (raw JSON
/// lines with `json`, else [`render`]ed) until the agent closes the stream (Ok) or refuses
/// or cuts off this subscriber (Err with its message). Returns Ok too when stdout is closed.
pub async fn follow(path: &Path, json: bool) -> Result<(), String> {
    let fail = |e: io::Error| {
        format!(
            "{}: {e}{}",
            path.display(),
            crate::agent::control::access_hint(&e)
        )
    };
    let mut stream = UnixStream::connect(path).await.map_err(|e| {
        fail(io::Error::new(
            e.kind(),
            format!("cannot connect to the agent: {e}"),
        ))
    })?;
    stream.write_all(b"events\n").await.map_err(fail)?;
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .await
            .map_err(|e| format!("{}: the event stream broke: {e}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() != Some(&b'\n') && n as u64 == MAX_LINE {
            return Err(format!(
                "{}: the agent sent a line longer than {MAX_LINE} bytes",
                path.display()
            ));
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Map<String, Value>>(line).ok();
        if let Some(obj) = &parsed
            && !obj.contains_key("event")
            && let Some(error) = obj.get("error")
        {
            let error = error
                .as_str()
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(format!("{}: the agent says: {error}", path.display()));
        }
        let text = match (&parsed, json) {
            (Some(obj), false) => render(obj),
            _ => line.to_owned(),
        };
        let mut out = io::stdout().lock();
        match writeln!(out, "{text}").and_then(|()| out.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(format!("cannot print the event: {e}")),
        }
    }
}

/// One event as a line for people: the time, the kind, then its fields, e.g.
/// `2026-12-01T10:00:00.123Z state_change web backup -> master (master_down_timer) priority 150/150`
/// (the priorities are effective/configured). Kinds without their own layout, or with
/// unexpected fields, come out as `key=value` pairs.
pub fn render(event: &Map<String, Value>) -> String {
    let time = event.get("time").map_or_else(|| "-".to_owned(), text);
    let kind = event.get("event").map_or_else(|| "-".to_owned(), text);
    let fields = known(&kind, event).unwrap_or_else(|| generic(event));
    if fields.is_empty() {
        format!("{time} {kind}")
    } else {
        format!("{time} {kind} {fields}")
    }
}

fn known(kind: &str, e: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| e.get(k).and_then(Value::as_str);
    let n = |k: &str| e.get(k).and_then(Value::as_u64);
    Some(match kind {
        "state_change" => format!(
            "{} {} -> {} ({}) priority {}/{}",
            s("instance")?,
            s("from")?,
            s("to")?,
            s("reason")?,
            n("effective_priority")?,
            n("priority")?
        ),
        "priority_change" => format!("{} priority {} -> {}", s("instance")?, n("from")?, n("to")?),
        "track_change" => {
            let verdict = if e.get("healthy")?.as_bool()? {
                "healthy"
            } else {
                "failed"
            };
            let result = match e.get("result") {
                None | Some(Value::Null) => String::new(),
                Some(Value::Object(r)) => match r.get("result").and_then(Value::as_str) {
                    Some("failed") => format!(" ({})", r.get("reason")?.as_str()?),
                    Some("value") => format!(" (value {})", r.get("value").map(text)?),
                    Some(other) => format!(" ({other})"),
                    None => return None,
                },
                Some(_) => return None,
            };
            format!("{} {verdict}{result}", s("track")?)
        }
        "master_conflict" => format!(
            "{} another master {} with priority {} (this one {})",
            s("instance")?,
            s("peer")?,
            n("peer_priority")?,
            n("priority")?
        ),
        _ => return None,
    })
}

/// `instance` first when there is one, then every other field as `key=value`.
fn generic(e: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    if let Some(instance) = e.get("instance") {
        parts.push(text(instance));
    }
    for (k, v) in e {
        if !matches!(k.as_str(), "time" | "event" | "instance") {
            parts.push(format!("{k}={}", text(v)));
        }
    }
    parts.join(" ")
}

/// A value as text: strings bare unless they need quotes, anything else as compact JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        let at = |ms: u64| rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(at(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(at(1_796_119_200_123), "2026-12-01T10:00:00.123Z");
        assert_eq!(at(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn the_time_comes_first_and_the_event_keeps_its_fields() {
        #[derive(Serialize)]
        #[serde(tag = "event", rename_all = "snake_case")]
        enum E {
            Ping { instance: String, n: u8 },
            Empty {},
        }
        let at = UNIX_EPOCH + Duration::from_millis(1_796_119_200_123);
        let ping = E::Ping {
            instance: "web".into(),
            n: 3,
        };
        assert_eq!(
            serialise(&ping, at).expect("serialises"),
            "{\"time\":\"2026-12-01T10:00:00.123Z\",\"event\":\"ping\",\"instance\":\"web\",\"n\":3}\n"
        );
        assert_eq!(
            serialise(&E::Empty {}, at).expect("serialises"),
            "{\"time\":\"2026-12-01T10:00:00.123Z\",\"event\":\"empty\"}\n"
        );
        let empty: Map<String, Value> = Map::new();
        assert_eq!(
            serialise(&empty, at).expect("serialises"),
            "{\"time\":\"2026-12-01T10:00:00.123Z\"}\n"
        );
        assert_eq!(
            serialise(&[1, 2], at).expect("serialises"),
            "{\"time\":\"2026-12-01T10:00:00.123Z\",\"data\":[1,2]}\n"
        );
    }

    fn parse(line: &str) -> Map<String, Value> {
        serde_json::from_str(line).expect("a JSON object")
    }

    #[test]
    fn node_events_render_for_people() {
        use crate::protocol::fsm::{Reason, State};
        use crate::protocol::node::Event;
        use crate::protocol::track::CheckResult;
        let at = UNIX_EPOCH + Duration::from_millis(1_796_119_200_123);
        let line = |e: &Event| render(&parse(&serialise(e, at).expect("serialises")));
        assert_eq!(
            line(&Event::StateChange {
                instance: "web".into(),
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDownTimer,
                priority: 150,
                effective_priority: 90,
            }),
            "2026-12-01T10:00:00.123Z state_change web backup -> master (master_down_timer) priority 90/150"
        );
        assert_eq!(
            line(&Event::PriorityChange {
                instance: "web".into(),
                from: 150,
                to: 90
            }),
            "2026-12-01T10:00:00.123Z priority_change web priority 150 -> 90"
        );
        assert_eq!(
            line(&Event::TrackChange {
                track: "app".into(),
                healthy: false,
                result: Some(CheckResult::Failed {
                    reason: "exit status 1".into()
                }),
            }),
            "2026-12-01T10:00:00.123Z track_change app failed (exit status 1)"
        );
        assert_eq!(
            line(&Event::TrackChange {
                track: "drain".into(),
                healthy: true,
                result: Some(CheckResult::Value { value: 0 }),
            }),
            "2026-12-01T10:00:00.123Z track_change drain healthy (value 0)"
        );
        assert_eq!(
            line(&Event::TrackChange {
                track: "eth1".into(),
                healthy: true,
                result: None,
            }),
            "2026-12-01T10:00:00.123Z track_change eth1 healthy"
        );
        assert_eq!(
            line(&Event::MasterConflict {
                instance: "web".into(),
                peer: "10.0.0.2".parse().expect("address"),
                peer_priority: 100,
                priority: 150,
            }),
            "2026-12-01T10:00:00.123Z master_conflict web another master 10.0.0.2 with priority 100 (this one 150)"
        );
        assert_eq!(
            line(&Event::ForeignAdvert {
                instance: "web".into(),
                vrid: 51,
                src: "10.0.0.1".parse().expect("address"),
                count: 2,
            }),
            "2026-12-01T10:00:00.123Z foreign_advert web count=2 src=10.0.0.1 vrid=51"
        );
        // Unknown kinds and odd fields still come out whole.
        assert_eq!(
            render(&parse(
                r#"{"time":"t","event":"reload","kept":["a b"],"note":"two words"}"#
            )),
            r#"t reload kept=["a b"] note="two words""#
        );
        assert_eq!(
            render(&parse(
                r#"{"time":"t","event":"state_change","instance":"web"}"#
            )),
            "t state_change web"
        );
    }
}
