//! Session tests: unique names, the player cap (away players count, resumes always fit), and what
//! `Welcome` tells a client.

use super::{Out, join, open_arena, step};
use crate::game::{ClientId, Inbound, ReplicationConfig, Sim, SimConfig};
use arena_shared::protocol::{MAX_NAME_CHARS, PlayerId, RejectReason, ServerFrame, SessionToken, Welcome};
use std::time::Duration;

fn sim() -> Sim {
    Sim::new(SimConfig {
        tick_rate: 60,
        seed: 1,
        arena: open_arena(),
    })
}

/// The `Welcome` `client` got in `out`.
fn welcome_of(out: &Out, client: u64) -> Option<Welcome> {
    out.frames.iter().find_map(|(to, frame)| match frame {
        ServerFrame::Welcome(w) if *to == Some(ClientId(client)) => Some(w.clone()),
        _ => None,
    })
}

/// The names announced to everyone in `out`, by player id.
fn announced(out: &Out) -> Vec<(PlayerId, String)> {
    out.frames
        .iter()
        .filter_map(|(to, frame)| match frame {
            ServerFrame::PlayerJoined { id, name } if to.is_none() => Some((*id, name.clone())),
            _ => None,
        })
        .collect()
}

fn lose(sim: &mut Sim, client: u64) {
    sim.push(Inbound::Lost {
        client: ClientId(client),
    });
}

fn resume(sim: &mut Sim, client: u64, token: SessionToken) {
    sim.push(Inbound::Resume {
        client: ClientId(client),
        name: "again".into(),
        token,
    });
}

#[test]
fn a_name_already_held_gets_the_next_free_number() {
    let mut s = sim();
    join(&mut s, 1, "ada");
    join(&mut s, 2, "ada");
    join(&mut s, 3, "ADA");
    join(&mut s, 4, "bob");
    let out = step(&mut s);
    assert_eq!(
        announced(&out),
        vec![
            (1, "ada".into()),
            (2, "ada 2".into()),
            (3, "ADA 3".into()),
            (4, "bob".into())
        ]
    );
    // The roster a newcomer gets holds the same names.
    join(&mut s, 5, "Ada 2");
    let out = step(&mut s);
    assert_eq!(announced(&out), vec![(5, "Ada 2 2".into())]);
    assert!(out.frames.contains(&(
        Some(ClientId(5)),
        ServerFrame::PlayerJoined {
            id: 2,
            name: "ada 2".into()
        }
    )));
}

#[test]
fn a_long_name_is_shortened_to_make_room_for_its_number() {
    let mut s = sim();
    let long = "x".repeat(MAX_NAME_CHARS);
    let spaced = format!("{} y", "z".repeat(MAX_NAME_CHARS - 3));
    for client in 1..=11 {
        join(&mut s, client, &long);
    }
    join(&mut s, 12, &spaced);
    join(&mut s, 13, &spaced);
    let names: Vec<String> = announced(&step(&mut s)).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names[0], long);
    assert_eq!(names[1], format!("{} 2", "x".repeat(MAX_NAME_CHARS - 2)));
    assert_eq!(names[10], format!("{} 11", "x".repeat(MAX_NAME_CHARS - 3)));
    // Shortening leaves no space before the number.
    assert_eq!(names[12], format!("{} 2", "z".repeat(MAX_NAME_CHARS - 3)));
    assert!(names.iter().all(|n| n.chars().count() <= MAX_NAME_CHARS), "{names:?}");
}

#[test]
fn a_name_frees_when_its_player_leaves_the_world_not_when_it_goes_away() {
    let mut s = sim();
    s.set_resume_grace(Duration::from_millis(100)); // 6 ticks
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    step(&mut s);
    s.push(Inbound::Leave { client: ClientId(1) });
    lose(&mut s, 2);
    join(&mut s, 3, "ada");
    join(&mut s, 4, "bob");
    let out = step(&mut s);
    assert_eq!(
        announced(&out),
        vec![(3, "ada".into()), (4, "bob 2".into())],
        "the away bob still holds his name"
    );
    for _ in 0..8 {
        step(&mut s); // bob's grace runs out
    }
    join(&mut s, 5, "bob");
    assert_eq!(announced(&step(&mut s)), vec![(5, "bob".into())]);
}

#[test]
fn the_cap_counts_away_players_and_a_join_beyond_it_is_refused_and_spawns_nothing() {
    let mut s = sim();
    s.set_max_players(2);
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    join(&mut s, 3, "cyd");
    let out = step(&mut s);
    assert_eq!(out.rejects, vec![(ClientId(3), RejectReason::Full)]);
    assert!(welcome_of(&out, 3).is_none());
    assert_eq!(announced(&out).len(), 2);
    let stats = s.stats();
    assert_eq!((stats.players, stats.players_joined, stats.rejected_full), (2, 2, 1));

    lose(&mut s, 2); // bob is away, still in the world
    join(&mut s, 4, "dee");
    let out = step(&mut s);
    assert_eq!(out.rejects, vec![(ClientId(4), RejectReason::Full)]);
    assert_eq!((s.stats().players, s.stats().rejected_full), (2, 1));
    // The refused client was never indexed: its inputs steer nobody, its leave removes nobody.
    s.push(super::input(4, 1, 127, 0.0, true));
    s.push(Inbound::Leave { client: ClientId(4) });
    let out = step(&mut s);
    assert!(
        out.frames
            .iter()
            .all(|(_, f)| !matches!(f, ServerFrame::PlayerLeft { .. }))
    );
    assert_eq!(s.stats().players, 2);

    // A player leaving for good makes room.
    s.push(Inbound::Leave { client: ClientId(1) });
    join(&mut s, 5, "eve");
    let out = step(&mut s);
    assert!(out.rejects.is_empty());
    assert_eq!(welcome_of(&out, 5).map(|w| w.player_id), Some(3));
    assert_eq!((s.stats().players_joined, s.stats().rejected_full), (1, 0));
}

#[test]
fn a_resume_within_the_grace_window_succeeds_on_a_full_server() {
    let mut s = sim();
    s.set_max_players(2);
    join(&mut s, 1, "ada");
    join(&mut s, 2, "bob");
    let out = step(&mut s);
    let token = welcome_of(&out, 2).expect("bob welcomed").session_token;
    lose(&mut s, 2);
    step(&mut s);

    resume(&mut s, 3, token);
    let out = step(&mut s);
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    let welcome = welcome_of(&out, 3).expect("the resume is welcomed");
    assert_eq!(welcome.player_id, 2, "the same player, taken back");
    let stats = s.stats();
    assert_eq!(
        (
            stats.players,
            stats.players_resumed,
            stats.players_joined,
            stats.rejected_full
        ),
        (2, 1, 0, 0)
    );

    // A token that is not live (this one was used) falls back to a join, and that join finds the world full.
    lose(&mut s, 3);
    resume(&mut s, 4, token);
    let out = step(&mut s);
    assert_eq!(out.rejects, vec![(ClientId(4), RejectReason::Full)]);
    assert_eq!((s.stats().players_resumed, s.stats().rejected_full), (0, 1));
    // The fresh token still works, full or not.
    resume(&mut s, 5, welcome.session_token);
    let out = step(&mut s);
    assert_eq!(welcome_of(&out, 5).map(|w| w.player_id), Some(2));
    assert_eq!(s.stats().players_resumed, 1);
}

#[test]
fn welcome_carries_the_snapshot_rate() {
    for (asked, sent) in [(20, 20), (60, 60), (240, 60), (0, 1)] {
        let mut replication = ReplicationConfig::for_tick_rate(60);
        replication.snapshot_rate = asked;
        let mut s = Sim::with_replication(
            SimConfig {
                tick_rate: 60,
                seed: 1,
                arena: open_arena(),
            },
            replication,
        );
        join(&mut s, 1, "ada");
        let welcome = welcome_of(&step(&mut s), 1).expect("welcomed");
        assert_eq!(
            (welcome.tick_rate, welcome.snapshot_rate),
            (60, sent),
            "asked for {asked}"
        );
    }
}
