//! The operators' admin endpoint: off without `--admin-token`; every call without the right token refused
//! (and counted) with nothing done; with it, rooms (private ones too) and players listed, a player kicked
//! with a reason while the others play on, a line broadcast to every player, a drain asked for.

use arena_client::{Event, Session};
use arena_e2e::{closed_within, join, start_server, wait_for};
use arena_server::RunningServer;
use arena_shared::protocol::{Mode, RoomRequest, ServerFrame};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECOND: Duration = Duration::from_secs(1);
const TOKEN: &str = "s3cret-admin-token-for-tests";

/// One HTTP call: the status code and the body.
async fn call(addr: SocketAddr, method: &str, target: &str, auth: Option<&str>) -> anyhow::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    let request = format!("{method} {target} HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    tokio::time::timeout(3 * SECOND, stream.read_to_string(&mut response)).await??;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

async fn admin_server(token: Option<&str>) -> anyhow::Result<(RunningServer, SocketAddr)> {
    let token = token
        .map(|t| arena_server::admin::AdminToken::parse(t).map_err(anyhow::Error::msg))
        .transpose()?;
    let server = start_server(|c| {
        c.metrics_bind = Some("127.0.0.1:0".parse().expect("an address"));
        c.admin_token = token;
    })
    .await?;
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    Ok((server, addr))
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

const ROUTES: [(&str, &str); 5] = [
    ("GET", "/admin/rooms"),
    ("GET", "/admin/players"),
    ("POST", "/admin/kick?client=1&reason=bye"),
    ("POST", "/admin/broadcast?text=hello"),
    ("POST", "/admin/drain"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_the_right_token_are_refused_counted_and_change_nothing() -> anyhow::Result<()> {
    let (server, addr) = admin_server(Some(TOKEN)).await?;
    let mut ann = join(&server, "ann").await?;
    let wrong = [
        None,
        Some("Bearer not-the-token-at-all".to_string()),
        Some(format!("Basic {TOKEN}")),
    ];
    for (method, target) in ROUTES {
        for auth in &wrong {
            let (status, body) = call(addr, method, target, auth.as_deref()).await?;
            assert_eq!(status, 401, "{method} {target} with {auth:?}: {body}");
        }
    }
    let (_, metrics) = call(addr, "GET", "/metrics", None).await?;
    assert!(
        metrics.lines().any(|l| l == "arena_admin_requests_refused_total 15"),
        "{metrics}"
    );
    // Nothing happened: ann plays on, was sent no notice, and no drain was asked for.
    let notice = wait_for(&mut ann, SECOND, |e| {
        matches!(e, Event::Frame(ServerFrame::Notice { .. })).then_some(())
    });
    assert!(notice.await.is_err(), "no broadcast reached ann");
    wait_for(&mut ann, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;
    let drained = tokio::time::timeout(Duration::from_millis(200), server.drain_requested()).await;
    assert!(drained.is_err(), "no drain was asked for");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoint_is_off_without_a_token() -> anyhow::Result<()> {
    let (_server, addr) = admin_server(None).await?;
    for (method, target) in ROUTES {
        let (status, body) = call(addr, method, target, Some(&bearer())).await?;
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("--admin-token"), "{body}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_lists_kicks_broadcasts_and_drains() -> anyhow::Result<()> {
    let (server, addr) = admin_server(Some(TOKEN)).await?;
    let auth = bearer();
    let mut ann = join(&server, "ann").await?;
    let mut bob = join(&server, "bob").await?;
    let mut options = arena_e2e::options(&server, "cy")?;
    options.room = RoomRequest::Create {
        mode: Mode::Deathmatch,
        private: true,
    };
    let _cy = Session::connect(&options).await?;

    let (status, rooms) = call(addr, "GET", "/admin/rooms", Some(&auth)).await?;
    assert_eq!(status, 200, "{rooms}");
    let rooms: serde_json::Value = serde_json::from_str(&rooms)?;
    assert_eq!(
        rooms["rooms"].as_array().map(Vec::len),
        Some(2),
        "the private room is listed too: {rooms}"
    );
    let public = arena_e2e::http_get(addr, "/rooms").await?;
    assert_eq!(
        public.matches("\"code\"").count(),
        1,
        "the public list has one: {public}"
    );

    // The players list says who is where; the dispatcher learns of a join a tick after it.
    let mut players = serde_json::Value::Null;
    for _ in 0..50 {
        let (status, body) = call(addr, "GET", "/admin/players", Some(&auth)).await?;
        assert_eq!(status, 200, "{body}");
        players = serde_json::from_str(&body)?;
        if players["players"].as_array().map(Vec::len) == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list = players["players"].as_array().cloned().unwrap_or_default();
    let named = |name: &str| list.iter().find(|p| p["name"] == name).cloned();
    let (ann_line, bob_line) = (named("ann").expect("ann listed"), named("bob").expect("bob listed"));
    assert_eq!(ann_line["room"], bob_line["room"], "{players}");
    assert_ne!(named("cy").expect("cy listed")["room"], ann_line["room"]);
    let bob_id = bob_line["client"].as_u64().expect("a client id");

    let (status, body) = call(
        addr,
        "POST",
        "/admin/broadcast?text=server+restarts+in+5+minutes",
        Some(&auth),
    )
    .await?;
    assert_eq!((status, body.as_str()), (200, "sent to 3 players\n"));
    let notice = wait_for(&mut ann, SECOND, |e| match e {
        Event::Frame(ServerFrame::Notice { text }) => Some(text.clone()),
        _ => None,
    });
    assert_eq!(notice.await?, "server restarts in 5 minutes");

    let (status, body) = call(
        addr,
        "POST",
        &format!("/admin/kick?client={bob_id}&reason=team%20killing"),
        Some(&auth),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let reason = closed_within(&mut bob, 2 * SECOND).await?;
    assert!(reason.contains("team killing"), "bob is told why: {reason}");
    wait_for(&mut ann, SECOND, |e| matches!(e, Event::Snapshot(_)).then_some(())).await?;
    // Once bob's room has seen him leave (its next tick), he is no longer there to kick.
    let mut status = 0;
    for _ in 0..50 {
        status = call(addr, "POST", &format!("/admin/kick?client={bob_id}"), Some(&auth))
            .await?
            .0;
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, 404, "bob is gone");
    let (status, _) = call(addr, "POST", "/admin/kick?client=abc", Some(&auth)).await?;
    assert_eq!(status, 400);

    let (status, _) = call(addr, "POST", "/admin/drain", Some(&auth)).await?;
    assert_eq!(status, 202);
    tokio::time::timeout(SECOND, server.drain_requested()).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_drains_and_exits_0_when_an_operator_asks() -> anyhow::Result<()> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(arena_e2e::server_binary()?)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--ephemeral-cert",
            "--metrics-bind",
            "127.0.0.1:0",
            "--web-bind",
            "off",
        ])
        .env("ARENA_ADMIN_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let second = lines.nth(1).transpose()?.unwrap_or_default();
    let Some(addr) = second.strip_prefix("metrics on ") else {
        let _ = child.kill();
        anyhow::bail!("second line: {second:?}");
    };
    let addr: SocketAddr = addr.trim().parse()?;
    let (status, _) = call(addr, "POST", "/admin/drain", Some("Bearer wrong-token-of-some-length")).await?;
    assert_eq!(status, 401);
    let (status, _) = call(addr, "POST", "/admin/drain", Some(&bearer())).await?;
    assert_eq!(status, 202);
    let asked = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait()? {
            break exit;
        }
        if asked.elapsed() > 10 * SECOND {
            let _ = child.kill();
            anyhow::bail!("the server did not exit within 10 s of the drain");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit}");
    Ok(())
}
