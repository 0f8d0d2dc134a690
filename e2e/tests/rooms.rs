//! Rooms over QUIC: quick join fills a room then opens another, a room joined by its code, private rooms
//! unlisted, the room list on the control stream, before `Hello` and as JSON, each room's messages kept to
//! it, a resume back into its room, empty rooms closing, and a room's matches running to their results.

use arena_client::lobby::list_rooms;
use arena_client::{ClientError, Event, Session};
use arena_e2e::{http_get, join, options, start_server, wait_for};
use arena_shared::protocol::{MatchPhase, Mode, RejectReason, RoomCode, RoomRequest, ServerFrame};
use quinn::VarInt;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

async fn join_room(
    server: &arena_server::RunningServer,
    name: &str,
    room: RoomRequest,
) -> Result<Session, ClientError> {
    let mut options = options(server, name).map_err(|e| ClientError::Protocol(e.to_string()))?;
    options.room = room;
    Session::connect(&options).await
}

fn create(private: bool) -> RoomRequest {
    RoomRequest::Create {
        mode: Mode::Deathmatch,
        private,
    }
}

fn room_of(session: &Session) -> RoomCode {
    session.welcome().room.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_join_fills_a_room_codes_reach_rooms_and_private_rooms_are_not_listed() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.room_size = 2;
        c.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await?;
    let mut ann = join(&server, "ann").await?;
    let mut bob = join(&server, "bob").await?;
    let mut cat = join(&server, "cat").await?;
    assert_eq!(room_of(&ann), room_of(&bob), "bob quick-joins ann's room");
    assert_ne!(room_of(&cat), room_of(&ann), "a full room: cat gets a new one");
    let full = join_room(&server, "dan", RoomRequest::Code(room_of(&ann))).await.err();
    assert!(
        matches!(full, Some(ClientError::Rejected(RejectReason::RoomFull))),
        "{full:?}"
    );
    let unknown = join_room(&server, "dan", RoomRequest::Code(RoomCode::parse("ZZZZZ")?))
        .await
        .err();
    assert!(
        matches!(unknown, Some(ClientError::Rejected(RejectReason::NoSuchRoom))),
        "{unknown:?}"
    );

    let pia = join_room(&server, "pia", create(true)).await?;
    let private = room_of(&pia);
    let quin = join_room(&server, "quin", RoomRequest::Code(private.clone())).await?;
    assert_eq!(room_of(&quin), private, "a private room takes a player by its code");

    // The list before Hello (a lobby), on the control stream, and as JSON: the public rooms, fullest first.
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let list = list_rooms(&endpoint, &options(&server, "lobby")?).await?;
    let listed: Vec<(RoomCode, u16, u16)> = list
        .rooms
        .iter()
        .map(|r| (r.code.clone(), r.players, r.capacity))
        .collect();
    assert_eq!(listed, vec![(room_of(&ann), 2, 2), (room_of(&cat), 1, 2)]);
    bob.ask_for_rooms().await?;
    let asked = wait_for(&mut bob, 2 * SECOND, |e| match e {
        Event::Frame(ServerFrame::Rooms(list)) => Some(list.clone()),
        _ => None,
    })
    .await?;
    assert_eq!(asked, list);
    let addr = server.metrics_addr.expect("metrics endpoint bound");
    let json = http_get(addr, "/rooms").await?;
    assert!(json.contains("Content-Type: application/json"), "{json}");
    let ann_line = format!(
        "{{\"code\":\"{}\",\"map\":\"standard\",\"mode\":\"deathmatch\",\"players\":2,\"capacity\":2,",
        room_of(&ann)
    );
    assert!(
        json.contains(&ann_line) && json.contains(room_of(&cat).as_str()),
        "{json}"
    );
    assert!(!json.contains(private.as_str()), "a private room is not served: {json}");

    // Each room's messages stay in it.
    ann.send_chat("only for this room").await?;
    let heard = |e: &Event| matches!(e, Event::Frame(ServerFrame::Chat { text, .. }) if text == "only for this room");
    wait_for(&mut bob, 2 * SECOND, |e| heard(e).then_some(())).await?;
    let overheard = wait_for(&mut cat, SECOND / 2, |e| heard(e).then_some(())).await;
    assert!(overheard.is_err(), "cat, in another room, heard ann");

    let metrics = http_get(addr, "/metrics").await?;
    for line in [
        format!("arena_room_players{{room=\"{}\"}} 2", room_of(&ann)),
        format!("arena_room_players{{room=\"{}\"}} 1", room_of(&cat)),
        "arena_rooms 3".to_owned(),
        "arena_players 5".to_owned(),
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_player_resumes_into_its_own_room() -> anyhow::Result<()> {
    let server = start_server(|c| c.room_size = 1).await?;
    let _first = join(&server, "first").await?;
    let second = join(&server, "second").await?;
    let (room, id) = (room_of(&second), second.player_id());
    second.connection().close(VarInt::from_u32(99), b"simulated loss");
    tokio::time::sleep(SECOND / 4).await;
    let back = second.resume().await?;
    assert_eq!(
        (room_of(&back), back.player_id()),
        (room, id),
        "the same player in the same room"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_room_closes_after_its_idle_time() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.room_idle_secs = 1;
        c.max_rooms = 1;
    })
    .await?;
    let solo = join_room(&server, "solo", create(false)).await?;
    let code = room_of(&solo);
    let busy = join_room(&server, "late", create(false)).await.err();
    assert!(
        matches!(busy, Some(ClientError::Rejected(RejectReason::TooManyRooms))),
        "{busy:?}"
    );
    solo.close().await;
    let left = tokio::time::Instant::now();
    // Watched from the lobby (which joins nothing), the room goes from the list after about a second.
    let endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
    let lobby = options(&server, "lobby")?;
    while list_rooms(&endpoint, &lobby)
        .await?
        .rooms
        .iter()
        .any(|r| r.code == code)
    {
        anyhow::ensure!(left.elapsed() < 5 * SECOND, "the empty room never closed");
        tokio::time::sleep(SECOND / 10).await;
    }
    assert!(
        left.elapsed() >= SECOND / 2,
        "closed after {:?}, before its idle time",
        left.elapsed()
    );
    let gone = join_room(&server, "back", RoomRequest::Code(code)).await.err();
    assert!(
        matches!(gone, Some(ClientError::Rejected(RejectReason::NoSuchRoom))),
        "{gone:?}"
    );
    assert!(
        join_room(&server, "new", create(false)).await.is_ok(),
        "its place is free again"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_ends_with_results_to_every_player_and_the_next_one_starts() -> anyhow::Result<()> {
    let server = start_server(|c| {
        c.min_players = 2;
        c.match_secs = 2;
        c.results_secs = 1;
    })
    .await?;
    let mut ann = join(&server, "ann").await?;
    let mut bob = join(&server, "bob").await?;
    let phase_of = |e: &Event| match e {
        Event::Frame(ServerFrame::Match(state)) => Some(state.phase),
        _ => None,
    };
    let playing = |e: &Event| (phase_of(e) == Some(MatchPhase::Playing)).then_some(());
    wait_for(&mut ann, 2 * SECOND, playing).await?;
    let results = wait_for(&mut ann, 4 * SECOND, |e| match e {
        Event::Frame(ServerFrame::Results(r)) => Some(r.clone()),
        _ => None,
    })
    .await?;
    let mut ids: Vec<u32> = results.lines.iter().map(|l| l.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![ann.player_id(), bob.player_id()], "{results:?}");
    let told = wait_for(&mut bob, 4 * SECOND, |e| match e {
        Event::Frame(ServerFrame::Results(r)) => Some(r.clone()),
        _ => None,
    })
    .await?;
    assert_eq!(told, results, "every player gets the same results");
    // 1 s of results, then a warm-up that two players end at once.
    wait_for(&mut ann, 3 * SECOND, playing).await?;
    server.shutdown().await;
    Ok(())
}
