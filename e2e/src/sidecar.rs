//! A stand-in for Agones' SDK sidecar: an HTTP server on 127.0.0.1 that records every call (method, path,
//! JSON body, the status it answered) and answers 200, or 500 to the first calls when asked to fail.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One call the sidecar received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarCall {
    pub method: String,
    pub path: String,
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl SidecarCall {
    /// `"POST /ready"`, say.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A fake sidecar, serving until dropped.
pub struct FakeSidecar {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<SidecarCall>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeSidecar {
    /// Serves on a free port of 127.0.0.1, answering 500 to the first `failures` calls.
    pub async fn start(failures: usize) -> std::io::Result<Self> {
        Self::start_on(0, failures).await
    }

    /// Serves on `127.0.0.1:port`, answering 500 to the first `failures` calls.
    pub async fn start_on(port: u16, failures: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicUsize::new(failures));
        let recorded = calls.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, recorded.clone(), failures.clone()));
            }
        });
        Ok(Self { addr, calls, task })
    }

    /// Every call so far, in the order they arrived.
    pub fn calls(&self) -> Vec<SidecarCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The calls answered 200, as `"METHOD /path"`.
    pub fn routes(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| c.status == 200)
            .map(SidecarCall::route)
            .collect()
    }
}

impl Drop for FakeSidecar {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(mut stream: TcpStream, calls: Arc<Mutex<Vec<SidecarCall>>>, failures: Arc<AtomicUsize>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    let body_start = loop {
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if request.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&request[..body_start]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while request.len() < body_start + length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
    let fail = failures
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail { 500 } else { 200 };
    if let Ok(mut calls) = calls.lock() {
        calls.push(SidecarCall {
            method: method.into(),
            path: path.into(),
            body: String::from_utf8_lossy(&request[body_start..body_start + length]).into(),
            status,
        });
    }
    let reason = if fail { "Internal Server Error" } else { "OK" };
    let response =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}");
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
