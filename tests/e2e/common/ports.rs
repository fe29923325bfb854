//! Ports held by the test, for what cannot bind `127.0.0.1:0` and announce the port it
//! got: Tansu (its advertised address must name the real port, and it is restarted on
//! the same one) and addresses where nothing may answer.
//!
//! A [`ReservedPort`] is a socket bound to the port that never listens. While it lives,
//! connections to the port are refused, and the kernel never hands the port to anyone
//! binding port 0 or connecting out (it is in use); a program that binds it itself with
//! `SO_REUSEADDR` (every tokio server, Tansu included) can still listen on it, and
//! listen on it again after a restart. So nothing else can take the port between the
//! moment the test picks it and the moment its program binds it.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpSocket;

/// A loopback port held (bound, never listening) until dropped.
pub struct ReservedPort {
    _socket: TcpSocket,
    pub port: u16,
}

impl ReservedPort {
    /// Holds a free port of 127.0.0.1.
    pub fn localhost() -> ReservedPort {
        ReservedPort::on(Ipv4Addr::LOCALHOST)
    }

    /// Holds a free port of `ip` (a loopback address).
    pub fn on(ip: Ipv4Addr) -> ReservedPort {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(SocketAddr::from((ip, 0)))
            .unwrap_or_else(|e| panic!("cannot bind a port of {ip}: {e}"));
        let port = socket.local_addr().expect("bound address").port();
        ReservedPort {
            _socket: socket,
            port,
        }
    }
}
