//! The operators' HTTP admin endpoint, on the metrics listener and off unless `--admin-token` is set:
//! list rooms and players, kick a player with a reason, broadcast a line to every player, drain.
//!
//! Every call carries `Authorization: Bearer <token>`; any other is refused (401) and counted. Arguments
//! travel in the query string (`POST /admin/kick?client=12&reason=cheating`), percent-encoded; texts are
//! cleaned like chat and at most [`MAX_CHAT_CHARS`] characters. Kicks and broadcasts go through the dispatcher, which
//! holds every connection ([`Request`]); a drain is handed to whoever runs the server ([`Admin::drain`]).

use crate::dispatch::DispatchSender;
use crate::game::ClientId;
use crate::metrics::{Metrics, inc};
use crate::rooms::Directory;
use arena_shared::protocol::{MAX_CHAT_CHARS, RoomCode, clean_chat};
use std::sync::Arc;
use tokio::sync::{oneshot, watch};

/// Shortest and longest token accepted: a short one could be guessed.
pub const TOKEN_CHARS: std::ops::RangeInclusive<usize> = 16..=256;

/// The admin token: printable ASCII without spaces, never shown in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(hidden)")
    }
}

impl AdminToken {
    /// Checks a token given on the command line, in the environment or in the config file.
    pub fn parse(s: &str) -> Result<Self, String> {
        if !TOKEN_CHARS.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "an admin token is {} to {} printable ASCII characters without spaces",
                TOKEN_CHARS.start(),
                TOKEN_CHARS.end()
            ));
        }
        Ok(Self(s.to_string()))
    }

    /// Whether `given` is this token, compared in time that does not depend on where they differ.
    fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

/// What the admin endpoint asks of the dispatcher, answered on the oneshot.
#[derive(Debug)]
pub enum Request {
    /// Every connected player.
    Players(oneshot::Sender<Vec<PlayerLine>>),
    /// Send a player away: whether it was connected.
    Kick {
        client: ClientId,
        reason: String,
        done: oneshot::Sender<bool>,
    },
    /// A line to every player: how many were sent it.
    Broadcast { text: String, done: oneshot::Sender<usize> },
}

/// One connected player, as the admin endpoint lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerLine {
    pub client: ClientId,
    pub name: String,
    pub room: RoomCode,
    pub rtt_ms: f64,
}

/// The admin endpoint's state.
pub struct Admin {
    token: AdminToken,
    dispatch: DispatchSender,
    directory: Arc<Directory>,
    metrics: Arc<Metrics>,
    drain: watch::Sender<bool>,
}

/// An HTTP answer: status line, content type, body.
pub type Answer = (&'static str, &'static str, String);

impl Admin {
    pub fn new(
        token: AdminToken,
        dispatch: DispatchSender,
        directory: Arc<Directory>,
        metrics: Arc<Metrics>,
        drain: watch::Sender<bool>,
    ) -> Self {
        Self {
            token,
            dispatch,
            directory,
            metrics,
            drain,
        }
    }

    /// Answers one request to `/admin…`: `method`, `target` (path and query) and the request's head.
    pub async fn answer(&self, method: &str, target: &str, head: &str) -> Answer {
        let bearer = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("authorization")
                .then(|| value.trim().strip_prefix("Bearer ").map(str::trim))?
        });
        if !bearer.is_some_and(|given| self.token.matches(given)) {
            inc(&self.metrics.admin_refused);
            return ("401 Unauthorized", TEXT, "missing or wrong admin token\n".into());
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let args = Query::parse(query);
        match (method, path) {
            ("GET", "/admin/rooms") => ok_json(crate::metrics::http::rooms_json(&self.directory.list_all())),
            ("GET", "/admin/players") => self.players().await,
            ("POST", "/admin/kick") => self.kick(&args).await,
            ("POST", "/admin/broadcast") => self.broadcast(&args).await,
            ("POST", "/admin/drain") => {
                self.drain.send_replace(true);
                tracing::info!("drain asked for on the admin endpoint");
                ("202 Accepted", TEXT, "draining\n".into())
            }
            _ => (
                "404 Not Found",
                TEXT,
                "admin: GET /admin/rooms, GET /admin/players, POST /admin/kick?client=ID&reason=TEXT, \
                 POST /admin/broadcast?text=TEXT, POST /admin/drain\n"
                    .into(),
            ),
        }
    }

    async fn players(&self) -> Answer {
        let (tx, rx) = oneshot::channel();
        let Some(players) = self
            .ask(crate::dispatch::Dispatch::Admin(Request::Players(tx)), rx)
            .await
        else {
            return unavailable();
        };
        let lines: Vec<String> = players
            .iter()
            .map(|p| {
                format!(
                    "{{\"client\":{},\"name\":{},\"room\":{},\"rtt_ms\":{:.1}}}",
                    p.client.0,
                    crate::metrics::http::json_string(&p.name),
                    crate::metrics::http::json_string(p.room.as_str()),
                    p.rtt_ms
                )
            })
            .collect();
        ok_json(format!("{{\"players\":[{}]}}\n", lines.join(",")))
    }

    async fn kick(&self, args: &Query) -> Answer {
        let Some(client) = args.get("client").and_then(|c| c.parse().ok()).map(ClientId) else {
            return bad_request("kick needs client=ID (a number from /admin/players)");
        };
        let reason = match (args.get("reason"), args.text("reason")) {
            (None, _) => "kicked by an operator".to_string(),
            (Some(_), Some(reason)) => reason,
            (Some(_), None) => return bad_request(&format!("reason: 1 to {MAX_CHAT_CHARS} characters")),
        };
        let (done, rx) = oneshot::channel();
        let request = Request::Kick {
            client,
            reason: reason.clone(),
            done,
        };
        match self.ask(crate::dispatch::Dispatch::Admin(request), rx).await {
            Some(true) => {
                tracing::info!(?client, %reason, "kicked on the admin endpoint");
                ("200 OK", TEXT, format!("kicked {}\n", client.0))
            }
            Some(false) => (
                "404 Not Found",
                TEXT,
                format!("no player with client id {}\n", client.0),
            ),
            None => unavailable(),
        }
    }

    async fn broadcast(&self, args: &Query) -> Answer {
        let Some(text) = args.text("text") else {
            return bad_request(&format!("broadcast needs text=TEXT (1 to {MAX_CHAT_CHARS} characters)"));
        };
        let (done, rx) = oneshot::channel();
        let request = Request::Broadcast { text, done };
        match self.ask(crate::dispatch::Dispatch::Admin(request), rx).await {
            Some(sent) => ("200 OK", TEXT, format!("sent to {sent} players\n")),
            None => unavailable(),
        }
    }

    /// Hands `request` to the dispatcher and waits for its answer (none if the dispatcher is gone).
    async fn ask<T>(&self, request: crate::dispatch::Dispatch, answer: oneshot::Receiver<T>) -> Option<T> {
        if !self.dispatch.request(request).await {
            return None;
        }
        answer.await.ok()
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

fn ok_json(body: String) -> Answer {
    ("200 OK", "application/json", body)
}

fn bad_request(why: &str) -> Answer {
    ("400 Bad Request", TEXT, format!("{why}\n"))
}

fn unavailable() -> Answer {
    ("503 Service Unavailable", TEXT, "the server is shutting down\n".into())
}

/// A query string's `key=value` pairs, percent-decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Self {
        Self(
            query
                .split('&')
                .filter_map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    Some((decode(key)?, decode(value)?))
                })
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A text for players, cleaned like chat; none if empty or over [`MAX_CHAT_CHARS`] characters.
    fn text(&self, key: &str) -> Option<String> {
        clean_chat(self.get(key)?).ok()
    }
}

/// Percent-decodes `s` (`+` is a space); none if it is not valid UTF-8 once decoded.
fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_printable_and_hidden() {
        assert!(AdminToken::parse("short").is_err());
        assert!(AdminToken::parse("sixteen chars ok").is_err(), "spaces");
        let t = AdminToken::parse("0123456789abcdef").unwrap();
        assert!(t.matches("0123456789abcdef"));
        assert!(!t.matches("0123456789abcdeF"));
        assert!(!t.matches("0123456789abcde"));
        assert_eq!(format!("{t:?}"), "AdminToken(hidden)");
    }

    #[test]
    fn queries_are_percent_decoded_and_texts_cleaned() {
        let q = Query::parse("client=12&reason=team+kill%21%0A&text=%ff");
        assert_eq!(q.get("client"), Some("12"));
        assert_eq!(q.text("reason").as_deref(), Some("team kill!"));
        assert_eq!(q.get("text"), None, "not UTF-8");
        assert_eq!(Query::parse("x=%4").get("x"), None, "cut short");
        let long = format!("text={}", "a".repeat(500));
        assert_eq!(Query::parse(&long).text("text"), None, "too long for a player's chat");
    }
}
