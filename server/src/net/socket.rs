//! The game's UDP socket, bound here rather than by quinn so that its kernel buffers can hold a tick's burst.
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

/// A bound socket and the buffer sizes the kernel granted (it may cap a request at `net.core.rmem_max` /
/// `wmem_max`; Linux reports twice the size asked, its bookkeeping included).
#[derive(Debug)]
pub struct Bound {
    pub socket: std::net::UdpSocket,
    pub recv_buffer: usize,
    pub send_buffer: usize,
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
    Ok(Bound {
        recv_buffer: socket.recv_buffer_size()?,
        send_buffer: socket.send_buffer_size()?,
        socket: socket.into(),
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
}
