//! The web client, served by the server (`--web-bind`, default `0.0.0.0:8080`): the page's static files,
//! built into the binary from the workspace's `web/` (see `build.rs`), and `GET /connect.json`, which tells
//! the page where the game is and which certificate hashes to pin:
//! `{"host": <string or null>, "port": <u16>, "path": "/arena", "certificate_hashes": ["<hex>", ...]}`.
//! `host` is null when the game listens on every address (the page uses its own host); the hashes are empty
//! with an operator's certificate (`--cert/--key`), which a browser verifies as any site's.

use crate::metrics::http::{Reply, Site, json_string, text};
use crate::net::certs::BrowserCerts;
use crate::net::web_session::WEB_PATH;
use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// The web client's site.
pub struct Web {
    /// Where the game listens.
    game: SocketAddr,
    /// The browsers' certificates, when the server makes its own.
    certs: Option<Arc<BrowserCerts>>,
}

impl Web {
    pub fn new(game: SocketAddr, certs: Option<Arc<BrowserCerts>>) -> Self {
        Self { game, certs }
    }

    /// The body of `/connect.json`.
    pub fn connect_json(&self) -> String {
        let host = match self.game.ip() {
            ip if ip.is_unspecified() => "null".to_string(),
            std::net::IpAddr::V4(ip) => json_string(&ip.to_string()),
            std::net::IpAddr::V6(ip) => json_string(&format!("[{ip}]")),
        };
        let hashes: Vec<String> = self
            .certs
            .as_ref()
            .map(|c| c.hashes())
            .unwrap_or_default()
            .iter()
            .map(|h| json_string(h))
            .collect();
        format!(
            "{{\"host\":{host},\"port\":{},\"path\":{},\"certificate_hashes\":[{}]}}\n",
            self.game.port(),
            json_string(WEB_PATH),
            hashes.join(",")
        )
    }
}

impl Site for Web {
    fn reply<'a>(
        &'a self,
        method: &'a str,
        target: &'a str,
        _head: &'a str,
    ) -> Pin<Box<dyn Future<Output = Reply> + Send + 'a>> {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        let reply = match (method, path) {
            ("GET", "/connect.json") => (
                "200 OK",
                "application/json",
                Cow::Owned(self.connect_json().into_bytes()),
            ),
            ("GET", path) => {
                let path = if path == "/" { "/index.html" } else { path };
                match FILES.iter().find(|(name, _, _)| *name == path) {
                    Some((_, content_type, bytes)) => ("200 OK", *content_type, Cow::Borrowed(*bytes)),
                    None => text("404 Not Found", "not found\n"),
                }
            }
            _ => text("405 Method Not Allowed", "GET only\n"),
        };
        Box::pin(std::future::ready(reply))
    }
}
