//! The rooms a server offers, as a lobby or a server browser sees them: [`list_rooms`] asks without
//! joining, and [`room_request`] turns the room flags into what `Hello` asks for.

use crate::session::{ClientError, ConnectOptions, exchange};
use arena_shared::protocol::{ClientFrame, Mode, RoomCode, RoomList, RoomRequest, ServerFrame, close_code};
use quinn::{Endpoint, VarInt};

/// Asks the server for its public rooms (a lobby's list), without joining: a short connection that
/// says `ListRooms` and leaves.
pub async fn list_rooms(endpoint: &Endpoint, options: &ConnectOptions) -> Result<RoomList, ClientError> {
    let (conn, _control, _recv, answer) = exchange(endpoint, options, &ClientFrame::ListRooms).await?;
    conn.close(VarInt::from_u32(close_code::LEFT), b"looked at the rooms");
    match answer {
        ServerFrame::Rooms(list) => Ok(list),
        other => Err(ClientError::Protocol(format!("expected Rooms, got {other:?}"))),
    }
}

/// The room flags of the terminal client and the bot: `--room CODE`, `--create`, `--create-private`, or
/// none (quick join).
pub fn room_request(code: Option<&str>, create: bool, create_private: bool) -> Result<RoomRequest, String> {
    match (code, create, create_private) {
        (Some(code), false, false) => RoomCode::parse(code)
            .map(RoomRequest::Code)
            .map_err(|e| format!("--room {code:?}: {e}")),
        (None, true, false) => Ok(RoomRequest::Create {
            mode: Mode::Deathmatch,
            private: false,
        }),
        (None, false, true) => Ok(RoomRequest::Create {
            mode: Mode::Deathmatch,
            private: true,
        }),
        (None, false, false) => Ok(RoomRequest::default()),
        _ => Err("--room, --create and --create-private exclude each other".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_flags_make_one_request() {
        assert_eq!(room_request(None, false, false), Ok(RoomRequest::default()));
        assert_eq!(
            room_request(Some("abc23"), false, false),
            Ok(RoomRequest::Code(RoomCode::parse("ABC23").unwrap()))
        );
        assert!(matches!(
            room_request(None, false, true),
            Ok(RoomRequest::Create { private: true, .. })
        ));
        assert!(room_request(Some("ABC0"), false, false).unwrap_err().contains("--room"));
        assert!(room_request(Some("ABC23"), true, false).is_err());
    }
}
