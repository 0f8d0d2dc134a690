//! The game's UDP socket, bound here rather than by quinn so that its kernel buffers can hold a tick's burst,
//! and what the kernel dropped there.
//!
//! Every client's input for a tick arrives within a few milliseconds, while the network thread may be busy
//! sending that tick's snapshots; the kernel's default receive buffer (208 KiB on Linux, about 170 small
//! datagrams once the kernel's own overhead per packet is counted) overflows from a few hundred players on,
//! and each overflow drops an input datagram (the next one repeats its inputs, a tick later). The buffer is
//! not made much larger than a couple of ticks of every client's inputs: a queue the server cannot drain is
//! latency, not safety.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// The buffer size asked for by default (`--udp-buffer`): two ticks of inputs from 1,000 players at the
/// kernel's cost per small datagram (about 1.2 KiB).
pub const DEFAULT_UDP_BUFFER: usize = 2 << 20;
/// The most `--udp-buffer` may ask for: 1 GiB, far past what a kernel grants (it caps at `rmem_max`), so a
/// typo cannot ask for an absurd size.
pub const MAX_UDP_BUFFER: usize = 1 << 30;

/// A bound socket and the buffer sizes the kernel granted (it may cap a request at `net.core.rmem_max` /
/// `wmem_max`; Linux reports twice the size asked, its bookkeeping included).
#[derive(Debug)]
pub struct Bound {
    pub socket: std::net::UdpSocket,
    pub recv_buffer: usize,
    pub send_buffer: usize,
    /// The socket's inode, which names it in `/proc/net/udp` (Linux only): see [`receive_drops`].
    pub inode: Option<u64>,
}

/// Binds a UDP socket on `addr` with receive and send buffers of `buffer` bytes asked for (0: the system's
/// defaults).
pub fn bind(addr: SocketAddr, buffer: usize) -> io::Result<Bound> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if buffer > 0 {
        socket.set_recv_buffer_size(buffer)?;
        socket.set_send_buffer_size(buffer)?;
    }
    socket.bind(&addr.into())?;
    let socket: std::net::UdpSocket = socket.into();
    Ok(Bound {
        recv_buffer: socket2::SockRef::from(&socket).recv_buffer_size()?,
        send_buffer: socket2::SockRef::from(&socket).send_buffer_size()?,
        inode: inode(&socket),
        socket,
    })
}

#[cfg(target_os = "linux")]
fn inode(socket: &std::net::UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    // The descriptor's link in /proc leads to the socket's inode.
    std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
        .ok()
        .map(|m| m.ino())
}

#[cfg(not(target_os = "linux"))]
fn inode(_: &std::net::UdpSocket) -> Option<u64> {
    None
}

/// Datagrams the kernel dropped for the socket `inode` because its receive buffer was full, as
/// `/proc/net/udp` (or `udp6`) counts them; `None` where there is no such table or no such socket.
pub fn receive_drops(inode: u64) -> Option<u64> {
    ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .find_map(|table| drops_in(&std::fs::read_to_string(table).ok()?, inode))
}

/// The drops of the socket `inode` in a `/proc/net/udp` table: each line `sl local remote st tx:rx tr:tm
/// retrnsmt uid timeout inode ref pointer drops`.
fn drops_in(table: &str, inode: u64) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let found = fields.get(9)?.parse::<u64>().ok()? == inode;
        found.then(|| fields.get(12)?.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_the_kernel_for_the_buffer_and_reports_what_it_granted() {
        let small = bind("127.0.0.1:0".parse().unwrap(), 0).unwrap();
        let asked = bind("127.0.0.1:0".parse().unwrap(), 256 << 10).unwrap();
        // Linux doubles what it is asked for (its bookkeeping), up to net.core.rmem_max.
        assert!(asked.recv_buffer >= 256 << 10, "granted {}", asked.recv_buffer);
        assert!(asked.send_buffer >= 256 << 10, "granted {}", asked.send_buffer);
        assert_ne!(small.recv_buffer, asked.recv_buffer);
        assert!(small.socket.local_addr().unwrap().port() != 0);
    }

    #[test]
    fn reads_a_socket_s_drops_from_the_kernel_s_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             1: 0100007F:1151 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n\
             2: 0100007F:1152 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4343 2 0000000000000000 0\n";
        assert_eq!(drops_in(table, 4242), Some(17));
        assert_eq!(drops_in(table, 4343), Some(0));
        assert_eq!(drops_in(table, 4444), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_receive_buffer_s_drops_are_counted() {
        // The smallest buffer the kernel allows, and nobody reading it: a burst overflows it at once.
        let bound = bind("127.0.0.1:0".parse().unwrap(), 1).unwrap();
        let inode = bound.inode.expect("a socket's inode on Linux");
        assert_eq!(receive_drops(inode), Some(0));
        let to = bound.socket.local_addr().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..200 {
            sender.send_to(&[0u8; 1_000], to).unwrap();
        }
        assert!(
            receive_drops(inode).is_some_and(|d| d > 100),
            "{:?}",
            receive_drops(inode)
        );
    }
}
