//! The TCP connection under the runner's HTTP client: ureq's plain TCP transport, plus
//! `TCP_QUICKACK` (Linux) before each write and each read, so that no answer waits for a
//! delayed acknowledgement.
//!
//! Why: a service that writes an answer's headers and body in two writes without
//! `TCP_NODELAY` (Python's `http.server`, many small frameworks and proxies) has its Nagle
//! algorithm hold the body until the client acknowledges the headers, and the client's
//! kernel delays that acknowledgement by about 40 ms. On a kept-alive connection that is
//! 40 ms on every answer. Quick-ack mode is not sticky (the kernel leaves it on its own), so
//! it is set again around each exchange. Where the platform has no such option (macOS,
//! Windows, the BSDs) the transport is ureq's plain one in effect, and the stall stays.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Weak};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};

/// Opens plain TCP connections (unless an earlier connector in the chain, a CONNECT proxy,
/// already made one) whose transport sets `TCP_QUICKACK` around each exchange.
#[derive(Debug, Default)]
pub struct QuickAckConnector;

impl<In: Transport> Connector<In> for QuickAckConnector {
    type Out = Either<In, QuickAckTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(chained) = chained {
            // A proxy's connection already carries this request.
            return Ok(Some(Either::A(chained)));
        }
        let config = details.config;
        let stream = Arc::new(connect(&details.addrs, details.timeout, config.no_delay())?);
        (details.register_shutdown)(Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>)?;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(Either::B(QuickAckTransport { stream, buffers, read_timeout: None, write_timeout: None })))
    }
}

/// The first address that accepts within the timeout; the last error when none does.
fn connect(addrs: &[SocketAddr], timeout: NextTimeout, no_delay: bool) -> Result<TcpStream, ureq::Error> {
    let mut last = None;
    for addr in addrs {
        let attempt = match timeout.not_zero() {
            Some(t) => TcpStream::connect_timeout(addr, *t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => {
                if no_delay {
                    stream.set_nodelay(true)?;
                }
                return Ok(stream);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                return Err(ureq::Error::Timeout(ureq::Timeout::Connect));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(ureq::Error::Io(
        last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "no address to connect to")),
    ))
}

/// A TCP connection that asks for quick acknowledgements before each write and each read.
pub struct QuickAckTransport {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    read_timeout: Option<std::time::Duration>,
    write_timeout: Option<std::time::Duration>,
}

impl std::fmt::Debug for QuickAckTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickAckTransport").field("addr", &self.stream.peer_addr().ok()).finish()
    }
}

/// An I/O error of an exchange, a timeout as ureq's own.
fn io_error(e: std::io::Error, reason: ureq::Timeout) -> ureq::Error {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => ureq::Error::Timeout(reason),
        _ => ureq::Error::Io(e),
    }
}

impl Transport for QuickAckTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let t = timeout.not_zero().map(|d| *d);
        if t != self.write_timeout {
            self.stream.set_write_timeout(t)?;
            self.write_timeout = t;
        }
        quick_ack(&self.stream);
        let output = &self.buffers.output()[..amount];
        (&*self.stream).write_all(output).map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let t = timeout.not_zero().map(|d| *d);
        if t != self.read_timeout {
            self.stream.set_read_timeout(t)?;
            self.read_timeout = t;
        }
        // Before the read: the headers that arrive are acknowledged at once, so a server's
        // Nagle algorithm lets the body follow them.
        quick_ack(&self.stream);
        let input = self.buffers.input_append_buf();
        let read = loop {
            match (&*self.stream).read(input) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let amount = read.map_err(|e| io_error(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        probe(&self.stream).unwrap_or(false)
    }
}

/// Whether a pooled connection is still usable: nothing to read and not closed.
fn probe(mut stream: &TcpStream) -> std::io::Result<bool> {
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 1];
    let open = match stream.read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
        // Bytes nobody asked for, or the end of the stream: the connection is not reused.
        _ => false,
    };
    stream.set_nonblocking(false)?;
    Ok(open)
}

/// Asks the kernel to acknowledge what arrives next at once (Linux: `TCP_QUICKACK`). A failure
/// only means the delayed acknowledgement stays, so it is ignored.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn quick_ack(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4);
    // SAFETY: the descriptor is the open socket `stream` holds for the duration of the call,
    // and the option value points at a live c_int of the length given.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            std::ptr::from_ref(&on).cast::<libc::c_void>(),
            len,
        );
    }
}

/// No quick-ack option on this platform: delayed acknowledgements stay as the kernel has them.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn quick_ack(_stream: &TcpStream) {}
