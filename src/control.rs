//! The control socket: a Unix stream socket where `vipd status` asks the running agent for
//! its state. One request line in, one JSON document out, connection closed.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// The report `vipd status --json` prints. Field names are part of the interface contract.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    pub router_id: String,
    pub instances: Vec<InstanceStatus>,
    /// Receive-path drops, per socket (interface and family), by kind.
    pub receive: Vec<ReceiveStatus>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct InstanceStatus {
    pub name: String,
    pub state: String,
    pub priority: u8,
    pub effective_priority: u8,
    pub vrid: u8,
    pub version: u8,
    pub interface: String,
    pub family: String,
    pub master_address: Option<String>,
    pub virtual_addresses: Vec<String>,
    pub advert_interval_ms: u64,
    pub master_advert_interval_ms: u64,
    pub adverts_received: u64,
    pub adverts_sent: u64,
    pub send_errors: u64,
    pub address_list_mismatches: u64,
    pub transitions: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReceiveStatus {
    pub interface: String,
    pub family: String,
    pub received: u64,
    pub drops: BTreeMap<String, u64>,
}

/// A status request travelling from the socket task to the agent's event loop.
pub type StatusRequest = oneshot::Sender<Status>;

/// Bind the control socket (replacing a stale one from a crashed run) and serve requests by
/// asking the event loop through `requests`.
pub fn serve(path: &Path, requests: mpsc::Sender<StatusRequest>) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let requests = requests.clone();
                    tokio::spawn(async move {
                        if let Err(e) = answer(stream, requests).await {
                            tracing::debug!(error = %e, "control connection failed");
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "control socket accept failed"),
            }
        }
    });
    Ok(())
}

async fn answer(stream: UnixStream, requests: mpsc::Sender<StatusRequest>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // Bounded: a client cannot make us buffer more than a short command.
    BufReader::new(read.take(256)).read_line(&mut line).await?;
    let reply = match line.trim() {
        "status" => {
            let (tx, rx) = oneshot::channel();
            requests
                .send(tx)
                .await
                .map_err(|_| io::Error::other("agent is shutting down"))?;
            let status = rx
                .await
                .map_err(|_| io::Error::other("agent is shutting down"))?;
            serde_json::to_string(&status).map_err(io::Error::other)?
        }
        other => {
            serde_json::json!({ "error": format!("unknown command {other:?}; allowed: status") })
                .to_string()
        }
    };
    write.write_all(reply.as_bytes()).await?;
    write.write_all(b"\n").await?;
    write.shutdown().await
}

/// Client side: ask the agent at `path` for its status.
pub async fn query(path: &Path) -> Result<Status, String> {
    let mut stream = UnixStream::connect(path)
        .await
        .map_err(|e| format!("{}: cannot connect to the agent: {e}", path.display()))?;
    stream
        .write_all(b"status\n")
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&reply)
        .map_err(|e| format!("{}: unexpected reply from the agent: {e}", path.display()))
}

/// One human-readable line per instance.
pub fn render_text(status: &Status) -> String {
    let mut out = String::new();
    for i in &status.instances {
        let master = i.master_address.as_deref().unwrap_or("-");
        out.push_str(&format!(
            "{:<16} {:<7} prio {:>3}/{:<3} vrid {:<3} {:<10} master {:<26} vips {}\n",
            i.name,
            i.state,
            i.effective_priority,
            i.priority,
            i.vrid,
            i.interface,
            master,
            i.virtual_addresses.join(",")
        ));
    }
    out
}

pub fn default_socket() -> PathBuf {
    PathBuf::from(crate::config::DEFAULT_CONTROL_SOCKET)
}
