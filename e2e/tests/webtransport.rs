//! Browsers' way in, without a browser: a Rust WebTransport client (web-transport-quinn, pinning the
//! server's published certificate hash as a page does) on the game's own UDP port plays beside a native
//! client: Hello, Welcome, the roster, snapshots in datagrams, moving, chat both ways; the page and
//! `/connect.json` are served; a session on the wrong path and garbage datagrams get what native ones get.

use arena_client::Event;
use arena_e2e::{http_get, join, start_server, wait_for};
use arena_shared::codec;
use arena_shared::protocol::{
    ClientDatagram, ClientFrame, FRAME_HEADER_LEN, Hello, InputDatagram, Inputs, PROTOCOL_VERSION, PlayerId,
    ServerDatagram, ServerFrame,
};
use arena_shared::rules::Input;
use std::time::{Duration, Instant};
use web_transport_quinn::{ClientBuilder, RecvStream, SendStream, Session};

const SECOND: Duration = Duration::from_secs(1);

/// A browser's connection, done as a page does it: the hashes from `/connect.json`, then the session.
async fn web_session(server: &arena_server::RunningServer, path: &str) -> anyhow::Result<Session> {
    let hashes = server.browser_certs.as_ref().map(|c| c.hashes()).unwrap_or_default();
    let hashes = hashes
        .iter()
        .map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16))
                .collect()
        })
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    let client = ClientBuilder::new().with_server_certificate_hashes(hashes)?;
    let url = format!("https://127.0.0.1:{}{path}", server.local_addr.port());
    let url: web_transport_quinn::proto::ConnectRequest = url.parse::<url::Url>()?.into();
    Ok(tokio::time::timeout(5 * SECOND, client.connect(url)).await??)
}

async fn read_frame(recv: &mut RecvStream) -> anyhow::Result<ServerFrame> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    recv.read_exact(&mut header).await?;
    let mut payload = vec![0u8; codec::frame_payload_len(header)?];
    recv.read_exact(&mut payload).await?;
    Ok(codec::decode_server_frame(&payload)?)
}

async fn send_frame(send: &mut SendStream, frame: &ClientFrame) -> anyhow::Result<()> {
    send.write_all(&codec::encode_frame(frame)?).await?;
    Ok(())
}

/// Says Hello as `name` on a new control stream; the stream and the player id from `Welcome`.
async fn hello(session: &Session, name: &str) -> anyhow::Result<(SendStream, RecvStream, PlayerId)> {
    let (mut send, mut recv) = session.open_bi().await?;
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        name: name.into(),
        resume: None,
        room: Default::default(),
    };
    send_frame(&mut send, &ClientFrame::Hello(hello)).await?;
    match tokio::time::timeout(2 * SECOND, read_frame(&mut recv)).await?? {
        ServerFrame::Welcome(welcome) => Ok((send, recv, welcome.player_id)),
        other => anyhow::bail!("expected Welcome, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_session_plays_beside_a_native_client() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let mut ann = join(&server, "ann").await?;
    let web = web_session(&server, "/arena").await?;
    let (mut send, mut recv, me) = hello(&web, "webby").await?;
    let mut views = arena_client::views::ViewRing::new(60);

    // The roster names ann; snapshots come in datagrams at the tick rate while the page walks right.
    let mut roster = Vec::new();
    let started = Instant::now();
    let (mut snapshots, mut seq, mut ack) = (0u32, 0u32, 0u32);
    let mut first_x = None;
    let mut last_x = None;
    while started.elapsed() < SECOND {
        seq += 1;
        let mut inputs = Inputs::default();
        inputs.push(Input {
            seq,
            move_x: 127,
            move_y: 0,
            aim: 0.0,
            buttons: 0,
        });
        let datagram = codec::encode_datagram(&ClientDatagram::Input(InputDatagram { ack_tick: ack, inputs }))?;
        web.send_datagram(datagram.into())?;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(16);
        while let Ok(Ok(bytes)) = tokio::time::timeout_at(deadline, web.read_datagram()).await {
            if let Ok(ServerDatagram::Delta(delta)) = codec::decode_server_datagram(&bytes)
                && let Ok(Some(snapshot)) = views.apply(&delta)
            {
                snapshots += 1;
                ack = ack.max(snapshot.tick);
                if let Some(own) = snapshot.players.iter().find(|p| p.id == me) {
                    first_x.get_or_insert(own.state.pos.x);
                    last_x = Some(own.state.pos.x);
                }
            }
        }
        while let Ok(Ok(frame)) = tokio::time::timeout(Duration::from_millis(1), read_frame(&mut recv)).await {
            if let ServerFrame::PlayerJoined { name, .. } = frame {
                roster.push(name);
            }
        }
        while ann.try_event().is_some() {}
    }
    assert!(roster.contains(&"ann".to_string()), "the roster: {roster:?}");
    assert!(snapshots >= 50, "{snapshots} snapshots in 1 s at 60 Hz");
    let (first, last) = (first_x.unwrap_or_default(), last_x.unwrap_or_default());
    assert!(last > first + 1.0, "the page's player moved right: {first} -> {last}");

    // Chat both ways.
    send_frame(
        &mut send,
        &ClientFrame::Chat {
            text: "hi from the web".into(),
        },
    )
    .await?;
    let line = wait_for(&mut ann, 2 * SECOND, |e| match e {
        Event::Frame(ServerFrame::Chat { text, .. }) => Some(text.clone()),
        _ => None,
    });
    assert_eq!(line.await?, "hi from the web");
    ann.send_chat("hi from the terminal").await?;
    let heard = async {
        loop {
            // Its own line comes back first: the room hears everyone.
            if let ServerFrame::Chat { from, text } = read_frame(&mut recv).await?
                && from != me
            {
                return anyhow::Ok(text);
            }
        }
    };
    assert_eq!(tokio::time::timeout(2 * SECOND, heard).await??, "hi from the terminal");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_connect_json_are_served_and_name_the_game_and_its_hashes() -> anyhow::Result<()> {
    let server =
        start_server(|c| c.web_bind = arena_server::config::WebBind(Some("127.0.0.1:0".parse().expect("an address"))))
            .await?;
    let web = server.web_addr.expect("the web client is served");
    let page = http_get(web, "/").await?;
    assert!(
        page.starts_with("HTTP/1.1 200 OK") && page.contains("text/html"),
        "{page}"
    );
    let connect = http_get(web, "/connect.json").await?;
    let body = connect.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body)?;
    assert_eq!(json["host"], "127.0.0.1");
    assert_eq!(json["port"], server.local_addr.port());
    assert_eq!(json["path"], "/arena");
    let hashes = server.browser_certs.as_ref().map(|c| c.hashes()).unwrap_or_default();
    assert_eq!(json["certificate_hashes"], serde_json::json!(hashes));
    assert_ne!(
        hashes.first(),
        Some(&server.cert_sha256),
        "browsers get a certificate of their own"
    );
    assert!(http_get(web, "/nope.js").await?.starts_with("HTTP/1.1 404"));
    assert!(http_get(web, "/../Cargo.toml").await?.starts_with("HTTP/1.1 404"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_path_is_refused_and_garbage_datagrams_disconnect_as_they_do_natively() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    assert!(
        web_session(&server, "/elsewhere").await.is_err(),
        "only /arena is a game session"
    );
    let web = web_session(&server, "/arena").await?;
    let (_send, _recv, _) = hello(&web, "noisy").await?;
    for _ in 0..30 {
        // Sending fails once the server has closed the session.
        let _ = web.send_datagram(vec![0xff; 40].into());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let closed = tokio::time::timeout(2 * SECOND, web.closed()).await?;
    assert!(closed.to_string().contains("malformed datagrams"), "{closed}");
    let bad = server.metrics.bad_datagrams.load(std::sync::atomic::Ordering::Relaxed);
    assert!(bad >= 21, "{bad} bad datagrams counted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_closes_a_browser_session_with_its_reason() -> anyhow::Result<()> {
    let server = start_server(|_| {}).await?;
    let web = web_session(&server, "/arena").await?;
    let (_send, mut recv, _) = hello(&web, "leaving").await?;
    let drained = tokio::spawn(server.drain(SECOND, std::future::pending()));
    let told = async {
        loop {
            if let ServerFrame::Closing { secs } = read_frame(&mut recv).await? {
                return anyhow::Ok(secs);
            }
        }
    };
    assert_eq!(
        tokio::time::timeout(2 * SECOND, told).await??,
        1,
        "told it closes in 1 s"
    );
    let closed = tokio::time::timeout(5 * SECOND, web.closed()).await?;
    assert!(closed.to_string().contains("server shutting down"), "{closed}");
    drained.await?;
    Ok(())
}
