//! The metrics endpoint on `global.metrics_listen`: HTTP/1.1 (hyper), `GET` or `HEAD` of
//! `/metrics` only, answered with [`metrics::render`] of the same
//! [`Status`](crate::agent::control::Status) snapshot `vipd status` gets from the event loop.
//!
//! The server runs on a thread of its own with its own single-threaded runtime, so parsing
//! requests, rendering and writing answers never take a turn from the event loop: all a
//! scrape costs the loop is building one snapshot. Hostile or broken clients are bounded:
//! - at most [`Limits::connections`] connections at once; more are accepted and closed at
//!   once (an idle crowd can hold every place, never a descriptor more), at most one each
//!   10 ms while every place is taken, the others waiting in a short backlog;
//! - [`Limits::header_timeout`] to send a request's headers, which is also how long a
//!   kept-alive connection may sit idle between requests (slowloris);
//! - at most [`Limits::header_bytes`] of headers, [`Limits::headers`] of them;
//! - [`Limits::lifetime`] for a whole connection, whatever it does, then
//!   [`Limits::grace`] to finish the answer being written;
//! - one snapshot at a time, reused for [`Limits::reuse`]: a burst of scrapes asks the loop
//!   once.
//!
//! [`MetricsServer::stop`] closes the listening socket and every connection, so the server
//! can be started and stopped from the event loop; [`reconfigure`] moves it as a reload of
//! `metrics_listen` needs.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use crate::agent::control::{self, AcceptBackoff, StatusRequest};
use crate::agent::metrics;
use crate::protocol::throttle::Throttle;

/// The one path served.
pub const PATH: &str = "/metrics";

/// What a client may cost the server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once.
    pub connections: usize,
    /// To send a request's headers, from the connection's start or the previous answer.
    pub header_timeout: Duration,
    /// The most bytes of a request line and headers.
    pub header_bytes: usize,
    /// The most header fields.
    pub headers: usize,
    /// The longest a connection lasts, however many requests it makes.
    pub lifetime: Duration,
    /// After `lifetime`: to finish writing the answer under way.
    pub grace: Duration,
    /// The longest a scrape waits for the event loop's snapshot.
    pub snapshot_timeout: Duration,
    /// A snapshot younger than this is served again rather than asked for anew.
    pub reuse: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        connections: 32,
        header_timeout: Duration::from_secs(3),
        header_bytes: 8 * 1024,
        headers: 32,
        lifetime: Duration::from_secs(10),
        grace: Duration::from_secs(1),
        snapshot_timeout: Duration::from_secs(2),
        reuse: Duration::from_millis(100),
    };
}

/// How often a repeating problem (refused connections, accept failures) is logged.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// While every place is taken, after closing one connection the server waits this long (or
/// until a place frees) before it accepts the next: a crowd that reconnects as fast as it is
/// closed then costs at most 100 accepts a second, and waits in the listen backlog.
const EXCESS_PAUSE: Duration = Duration::from_millis(10);
/// Connections the kernel holds for the server before it answers no more handshakes.
const BACKLOG: i32 = 64;
/// How long [`MetricsServer::stop`] waits for the thread to let go of the socket.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Bind `address` for the metrics server; the error names the address and says what to do.
/// Called before the agent touches anything, so a taken port stops it before the election.
pub fn bind(address: SocketAddr) -> Result<std::net::TcpListener, String> {
    listen(address).map_err(|e| bind_error(address, &e))
}

fn bind_error(address: SocketAddr, e: &io::Error) -> String {
    let hint = match e.kind() {
        io::ErrorKind::AddrInUse => {
            " (another process listens there: stop it, or choose another port)"
        }
        io::ErrorKind::AddrNotAvailable => {
            " (no interface of this host has that address: use one it has, or 0.0.0.0 or [::])"
        }
        io::ErrorKind::PermissionDenied => {
            " (a port below 1024 needs CAP_NET_BIND_SERVICE, which the systemd unit does not \
                 grant: choose a port above 1023)"
        }
        _ => "",
    };
    format!("global.metrics_listen: cannot listen on {address}: {e}{hint}")
}

/// Move the metrics server to `wanted` (`None`: no server), as a reload of
/// `global.metrics_listen` does. The same address keeps the same server. Otherwise the new
/// address is bound while the old server still serves, then the old one stops; when the new
/// address is taken by the old server itself (the same port, one of the two a wildcard
/// address), the old one stops first, and starts again should the new one still fail.
/// Returns the server now running, and why `wanted` is not served, if it is not.
pub async fn reconfigure(
    current: Option<MetricsServer>,
    wanted: Option<SocketAddr>,
    requests: &mpsc::Sender<StatusRequest>,
    limits: Limits,
) -> (Option<MetricsServer>, Result<(), String>) {
    let Some(address) = wanted else {
        if let Some(old) = current {
            old.stop().await;
        }
        return (None, Ok(()));
    };
    let start = |listener| MetricsServer::start(listener, requests.clone(), limits);
    match (current, listen(address)) {
        (Some(old), _) if old.address() == address => (Some(old), Ok(())),
        (old, Ok(listener)) => match start(listener) {
            Ok(new) => {
                if let Some(old) = old {
                    old.stop().await;
                }
                (Some(new), Ok(()))
            }
            Err(e) => (old, Err(e)),
        },
        (Some(old), Err(e))
            if e.kind() == io::ErrorKind::AddrInUse && old.address().port() == address.port() =>
        {
            let previous = old.address();
            old.stop().await;
            match bind(address).and_then(start) {
                Ok(new) => (Some(new), Ok(())),
                Err(e) => match bind(previous).and_then(start) {
                    Ok(again) => (Some(again), Err(e)),
                    Err(lost) => (None, Err(format!("{e}; and the previous address: {lost}"))),
                },
            }
        }
        (old, Err(e)) => (old, Err(bind_error(address, &e))),
    }
}

/// A non-blocking listening socket on `address` with a short backlog (std's is longer).
fn listen(address: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    // As std does: a restarted agent rebinds at once despite connections in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// A running metrics server. Dropping it stops it too, without waiting.
#[derive(Debug)]
pub struct MetricsServer {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    stopped: Option<oneshot::Receiver<()>>,
}

impl MetricsServer {
    /// Serve a bound listener on a thread of its own: scrapes ask the event loop for its
    /// snapshot through `requests`.
    pub fn start(
        listener: std::net::TcpListener,
        requests: mpsc::Sender<StatusRequest>,
        limits: Limits,
    ) -> Result<MetricsServer, String> {
        let address = listener
            .local_addr()
            .map_err(|e| format!("global.metrics_listen: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the metrics server's runtime: {e}"))?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (stopped_tx, stopped_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("vipd-metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let snapshots = Arc::new(Snapshots::new(requests, limits));
                            accept_loop(listener, snapshots, limits, stop_rx).await;
                        }
                        Err(e) => tracing::error!(%address, error = %e, "metrics server failed"),
                    }
                });
                // Every connection task goes with the runtime, and its socket with it.
                drop(runtime);
                let _ = stopped_tx.send(());
            })
            .map_err(|e| format!("cannot start the metrics server's thread: {e}"))?;
        Ok(MetricsServer {
            address,
            stop: Some(stop_tx),
            stopped: Some(stopped_rx),
        })
    }

    /// Where it listens (the port the system chose, for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stop serving. When this returns, the listening socket and every connection are
    /// closed (or 2 s have passed), so the address can be bound again at once.
    pub async fn stop(mut self) {
        drop(self.stop.take());
        if let Some(stopped) = self.stopped.take() {
            let _ = tokio::time::timeout(STOP_WAIT, stopped).await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    snapshots: Arc<Snapshots>,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.header_bytes)
        .max_headers(limits.headers)
        .keep_alive(true);
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(limits.connections));
    let epoch = Instant::now();
    let mut refused = Throttle::new(WARN_EVERY);
    let mut backoff = AcceptBackoff::new();
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.succeeded();
                stream
            }
            Err(e) => {
                let pause = backoff.failed(epoch.elapsed(), "metrics", &e);
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(pause) => {}
                }
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            if let Some(held) = refused.pass(epoch.elapsed()) {
                tracing::warn!(
                    limit = limits.connections,
                    suppressed = held,
                    "too many metrics connections at once; closing new ones"
                );
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = slots.acquire() => {}
                _ = tokio::time::sleep(EXCESS_PAUSE) => {}
            }
            continue;
        };
        let http = http.clone();
        let snapshots = snapshots.clone();
        tokio::spawn(async move {
            serve_connection(&http, stream, snapshots, limits).await;
            drop(slot);
        });
    }
}

/// One connection, for at most its lifetime and grace.
async fn serve_connection(
    http: &http1::Builder,
    stream: TcpStream,
    snapshots: Arc<Snapshots>,
    limits: Limits,
) {
    let service = service_fn(move |request| {
        let snapshots = snapshots.clone();
        async move { Ok::<_, Infallible>(answer(&request, &snapshots).await) }
    });
    let connection = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = tokio::time::sleep(limits.lifetime) => {
            // Let the answer under way finish, then close.
            connection.as_mut().graceful_shutdown();
            match tokio::time::timeout(limits.grace, connection.as_mut()).await {
                Ok(result) => result,
                Err(_) => return tracing::debug!("metrics connection outlived its lifetime; closed"),
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "metrics connection failed");
    }
}

/// The answer to one request: only `GET` or `HEAD` of [`PATH`].
async fn answer(request: &Request<Incoming>, snapshots: &Snapshots) -> Response<Full<Bytes>> {
    if request.uri().path() != PATH {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: vipd serves its metrics at /metrics\n",
        );
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: GET or HEAD /metrics\n",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match snapshots.body().await {
        Ok(body) => {
            let mut response = Response::new(Full::new(body));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static(metrics::CONTENT_TYPE),
            );
            response
        }
        Err(why) => plain(StatusCode::SERVICE_UNAVAILABLE, why),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The rendered snapshot, asked of the event loop by one scrape at a time.
struct Snapshots {
    requests: mpsc::Sender<StatusRequest>,
    reuse: Duration,
    timeout: Duration,
    /// The last answer and when it came: the exposition, or why there is none (a loop that
    /// did not answer is not asked again by every scrape waiting behind the one that asked).
    last: Mutex<Option<(Instant, Result<Bytes, &'static str>)>>,
}

impl Snapshots {
    fn new(requests: mpsc::Sender<StatusRequest>, limits: Limits) -> Snapshots {
        Snapshots {
            requests,
            reuse: limits.reuse,
            timeout: limits.snapshot_timeout,
            last: Mutex::new(None),
        }
    }

    /// The exposition of a snapshot at most `reuse` old. Scrapes that arrive while one asks
    /// the loop wait for its answer rather than ask again.
    async fn body(&self) -> Result<Bytes, &'static str> {
        let mut last = self.last.lock().await;
        if let Some((at, body)) = last.as_ref()
            && at.elapsed() < self.reuse
        {
            return body.clone();
        }
        let body = match tokio::time::timeout(self.timeout, control::ask(&self.requests)).await {
            Ok(Ok(status)) => Ok(Bytes::from(metrics::render(status))),
            Ok(Err(_)) => Err("the agent is shutting down\n"),
            Err(_) => Err("the agent did not answer in time\n"),
        };
        *last = Some((Instant::now(), body.clone()));
        body
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::agent::control::Status;

    const FAST: Limits = Limits {
        connections: 4,
        header_timeout: Duration::from_millis(300),
        header_bytes: 8 * 1024,
        headers: 32,
        lifetime: Duration::from_secs(2),
        grace: Duration::from_millis(200),
        snapshot_timeout: Duration::from_millis(300),
        reuse: Duration::from_millis(100),
    };

    /// An event loop that answers every snapshot request with `status`; counts them.
    fn fake_loop(status: Status) -> (mpsc::Sender<StatusRequest>, Arc<AtomicUsize>) {
        let (tx, mut rx) = mpsc::channel::<StatusRequest>(16);
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = reply.send(status.clone());
            }
        });
        (tx, asked)
    }

    fn start(requests: mpsc::Sender<StatusRequest>, limits: Limits) -> MetricsServer {
        let listener = bind("127.0.0.1:0".parse().expect("an address")).expect("bind");
        MetricsServer::start(listener, requests, limits).expect("start")
    }

    fn status() -> Status {
        crate::agent::metrics::tests::sample()
    }

    /// Send `request`, read until the server closes; bounded in time. A reset counts as the end.
    async fn exchange(address: SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let _ = stream.write_all(request).await;
        read_all(&mut stream).await
    }

    async fn read_all(stream: &mut TcpStream) -> String {
        let mut reply = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply));
        match read.await {
            Ok(Ok(_)) | Ok(Err(_)) => String::from_utf8_lossy(&reply).into_owned(),
            Err(_) => panic!("the server kept the connection open"),
        }
    }

    fn get(path: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").into_bytes()
    }

    #[tokio::test]
    async fn get_and_head_of_metrics_and_nothing_else() {
        let (requests, _) = fake_loop(status());
        let server = start(requests, FAST);
        let at = server.address();

        let reply = exchange(at, &get("/metrics")).await;
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(
            reply.contains("\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            "{reply}"
        );
        let (head, body) = reply.split_once("\r\n\r\n").expect("headers and a body");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(
            body.contains("vipd_instance_state{instance=\"web\",state=\"master\"} 1\n"),
            "{body}"
        );
        assert_eq!(body, crate::agent::metrics::render(status()));

        let reply = exchange(at, &get("/metrics?name[]=x")).await;
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");

        let reply = exchange(
            at,
            b"HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("\r\n\r\n"), "a body after HEAD: {reply}");

        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let request = format!(
                "{method} /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let reply = exchange(at, request.as_bytes()).await;
            assert!(reply.starts_with("HTTP/1.1 405 "), "{method}: {reply}");
            assert!(reply.contains("\r\nallow: GET, HEAD\r\n"), "{reply}");
        }
        for path in ["/", "/metrics/", "/metric", "/status"] {
            let reply = exchange(at, &get(path)).await;
            assert!(reply.starts_with("HTTP/1.1 404 "), "{path}: {reply}");
        }
        // Not HTTP at all: an error answer or a close, and the server carries on.
        let reply = exchange(at, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 400 "),
            "{reply}"
        );
        assert!(
            exchange(at, &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_burst_of_scrapes_asks_the_loop_once() {
        let (requests, asked) = fake_loop(status());
        let limits = Limits {
            reuse: Duration::from_millis(500),
            ..FAST
        };
        let server = start(requests, limits);
        let at = server.address();
        let scrapes: Vec<_> = (0..FAST.connections)
            .map(|_| tokio::spawn(async move { exchange(at, &get("/metrics")).await }))
            .collect();
        for scrape in scrapes {
            let reply = scrape.await.expect("joined");
            assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
        }
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // Older than `reuse`: asked again.
        tokio::time::sleep(limits.reuse * 2).await;
        assert!(
            exchange(at, &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        );
        assert_eq!(asked.load(Ordering::SeqCst), 2);
        server.stop().await;
    }

    #[tokio::test]
    async fn oversized_headers_are_refused() {
        let (requests, asked) = fake_loop(status());
        let server = start(requests, FAST);
        let big = format!(
            "GET /metrics HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
            "a".repeat(FAST.header_bytes)
        );
        let reply = exchange(server.address(), big.as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
        let many: String = (0..=FAST.headers)
            .map(|n| format!("X-{n}: 1\r\n"))
            .collect();
        let request = format!("GET /metrics HTTP/1.1\r\n{many}\r\n");
        let reply = exchange(server.address(), request.as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
        assert_eq!(asked.load(Ordering::SeqCst), 0);
        server.stop().await;
    }

    #[tokio::test]
    async fn slow_and_idle_clients_are_closed_at_the_header_timeout() {
        let (requests, _) = fake_loop(status());
        let server = start(requests, FAST);
        let started = Instant::now();
        // Silent.
        assert_eq!(exchange(server.address(), b"").await, "");
        // A byte at a time, never finishing (slowloris).
        let mut slow = TcpStream::connect(server.address()).await.expect("connect");
        for byte in b"GET /metrics HTTP/1.1\r\nX-A: " {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let reply = read_all(&mut slow).await;
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 408 "),
            "{reply}"
        );
        assert!(started.elapsed() < FAST.header_timeout * 2 + Duration::from_millis(800));
        // Kept alive but idle after an answer: closed at the header timeout too.
        let mut kept = TcpStream::connect(server.address()).await.expect("connect");
        kept.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .expect("write");
        let idle_from = Instant::now();
        let reply = read_all(&mut kept).await;
        assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
        let idle = idle_from.elapsed();
        assert!(
            idle >= FAST.header_timeout / 2 && idle < FAST.header_timeout * 3,
            "{idle:?}"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_keep_alive_client_is_closed_at_the_end_of_its_lifetime() {
        let (requests, _) = fake_loop(status());
        let limits = Limits {
            lifetime: Duration::from_millis(500),
            ..FAST
        };
        let server = start(requests, limits);
        let mut stream = TcpStream::connect(server.address()).await.expect("connect");
        let started = Instant::now();
        let mut answers = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let request = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
            if stream.write_all(request).await.is_err() {
                break;
            }
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                .await
                .expect("an answer or the end");
            match n {
                Ok(n) if n > 0 => answers += 1,
                _ => break,
            }
            assert!(started.elapsed() < Duration::from_secs(3), "never closed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let lasted = started.elapsed();
        assert!(answers >= 3, "{answers} answers");
        assert!(
            lasted >= limits.lifetime && lasted < limits.lifetime + Duration::from_secs(1),
            "{lasted:?}"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_are_closed_at_once() {
        let (requests, _) = fake_loop(status());
        let limits = Limits {
            header_timeout: Duration::from_secs(5),
            ..FAST
        };
        let server = start(requests, limits);
        let mut idle = Vec::new();
        for _ in 0..limits.connections {
            idle.push(TcpStream::connect(server.address()).await.expect("connect"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        let reply = exchange(server.address(), &get("/metrics")).await;
        assert_eq!(reply, "", "served beyond the limit");
        assert!(started.elapsed() < Duration::from_secs(1));
        // A place that frees up serves again.
        drop(idle.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            exchange(server.address(), &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_loop_that_does_not_answer_gives_503_not_a_hang() {
        let (requests, mut held) = mpsc::channel::<StatusRequest>(16);
        let server = start(requests, FAST);
        let keep = tokio::spawn(async move {
            let mut kept = Vec::new();
            while let Some(reply) = held.recv().await {
                kept.push(reply);
            }
        });
        // Every scrape waiting meanwhile gets the same answer, not a timeout of its own.
        let at = server.address();
        let started = Instant::now();
        let scrapes: Vec<_> = (0..FAST.connections)
            .map(|_| tokio::spawn(async move { exchange(at, &get("/metrics")).await }))
            .collect();
        for scrape in scrapes {
            let reply = scrape.await.expect("joined");
            assert!(reply.starts_with("HTTP/1.1 503 "), "{reply}");
            assert!(
                reply.ends_with("the agent did not answer in time\n"),
                "{reply}"
            );
        }
        assert!(started.elapsed() < FAST.snapshot_timeout + Duration::from_millis(500));
        keep.abort();
        let _ = keep.await;
        tokio::time::sleep(FAST.reuse * 2).await;
        let reply = exchange(server.address(), &get("/metrics")).await;
        assert!(reply.ends_with("the agent is shutting down\n"), "{reply}");
        server.stop().await;
    }

    #[tokio::test]
    async fn stop_closes_everything_and_frees_the_address() {
        let (requests, _) = fake_loop(status());
        let limits = Limits {
            header_timeout: Duration::from_secs(30),
            ..FAST
        };
        let server = start(requests.clone(), limits);
        let at = server.address();
        let mut idle = TcpStream::connect(at).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        server.stop().await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            read_all(&mut idle).await,
            "",
            "the open connection is closed"
        );
        assert!(TcpStream::connect(at).await.is_err(), "still listening");
        // Bound again at once, as a reload would.
        let again =
            MetricsServer::start(bind(at).expect("rebind"), requests, limits).expect("start");
        assert!(
            exchange(at, &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        );
        again.stop().await;
    }

    #[tokio::test]
    async fn reconfigure_moves_keeps_or_stops_the_server() {
        let (requests, _) = fake_loop(status());
        let answers = |at: SocketAddr| async move {
            exchange(at, &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        };
        // Off to on, on a port the system picks, then known.
        let (server, result) = reconfigure(
            None,
            Some("127.0.0.1:0".parse().expect("an address")),
            &requests,
            FAST,
        )
        .await;
        assert_eq!(result, Ok(()));
        let server = server.expect("a server");
        let local = server.address();
        assert!(answers(local).await);
        // Unchanged: the same server, its connections untouched.
        let mut open = TcpStream::connect(local).await.expect("connect");
        let (server, result) = reconfigure(Some(server), Some(local), &requests, FAST).await;
        assert_eq!(result, Ok(()));
        open.write_all(&get("/metrics")).await.expect("write");
        assert!(read_all(&mut open).await.starts_with("HTTP/1.1 200 "));
        // The same port on every address: the old server must let go first.
        let wildcard = SocketAddr::from(([0, 0, 0, 0], local.port()));
        let (server, result) = reconfigure(server, Some(wildcard), &requests, FAST).await;
        assert_eq!(result, Ok(()));
        assert_eq!(server.as_ref().map(MetricsServer::address), Some(wildcard));
        assert!(answers(local).await);
        // A port someone else holds: an error, and the old server serves on, untouched.
        let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken = held.local_addr().expect("address");
        let mut open = TcpStream::connect(local).await.expect("connect");
        let (server, result) = reconfigure(server, Some(taken), &requests, FAST).await;
        let err = result.expect_err("taken");
        assert!(err.contains(&taken.to_string()), "{err}");
        assert_eq!(server.as_ref().map(MetricsServer::address), Some(wildcard));
        open.write_all(&get("/metrics")).await.expect("write");
        assert!(read_all(&mut open).await.starts_with("HTTP/1.1 200 "));
        // On to off.
        let (server, result) = reconfigure(server, None, &requests, FAST).await;
        assert_eq!(result, Ok(()));
        assert!(server.is_none());
        assert!(TcpStream::connect(local).await.is_err(), "still listening");
    }

    #[tokio::test]
    async fn reconfigure_restarts_the_old_server_when_the_new_address_fails() {
        let (requests, _) = fake_loop(status());
        let server = start(requests.clone(), FAST);
        let old = server.address();
        // Someone else holds the same port on another address: every address on that port
        // clashes with both, so the old server lets go, the new bind still fails, and the
        // old one is started again where it was.
        let _held = std::net::TcpListener::bind(("127.0.0.2", old.port())).expect("bind");
        let clash = SocketAddr::from(([0, 0, 0, 0], old.port()));
        let (server, result) = reconfigure(Some(server), Some(clash), &requests, FAST).await;
        let err = result.expect_err("the port is held");
        assert!(err.contains(&clash.to_string()), "{err}");
        assert_eq!(server.as_ref().map(MetricsServer::address), Some(old));
        assert!(
            exchange(old, &get("/metrics"))
                .await
                .starts_with("HTTP/1.1 200 ")
        );
        if let Some(server) = server {
            server.stop().await;
        }
    }

    #[test]
    fn a_taken_address_is_an_error_naming_it() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let at = held.local_addr().expect("address");
        let err = bind(at).expect_err("taken");
        assert!(
            err.starts_with(&format!("global.metrics_listen: cannot listen on {at}: ")),
            "{err}"
        );
        assert!(err.contains("another process listens there"), "{err}");
    }
}
