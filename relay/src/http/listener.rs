//! The relay's TCP listener: at most `max_connections_per_ip` open
//! connections per client IP (one more is closed at once, before any byte
//! is read), and every connection closed after `idle_timeout` without a
//! byte from the client. Also sets `TCP_NODELAY`: small answers right after
//! a large pushed frame (a checkpoint event) must not wait for Nagle's
//! algorithm (measured: ~45 ms per connect).

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Open connections per IP; shared by the listener and its connections.
#[derive(Debug, Default)]
struct OpenConnections {
    by_ip: Mutex<HashMap<IpAddr, usize>>,
}

impl OpenConnections {
    fn by_ip(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.by_ip.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Counts one open connection until dropped.
struct ConnectionSlot {
    ip: IpAddr,
    open: Arc<OpenConnections>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut by_ip = self.open.by_ip();
        if let Some(count) = by_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                by_ip.remove(&self.ip);
            }
        }
    }
}

/// A [`TcpListener`] enforcing the per-IP connection cap and the idle timeout.
pub struct LimitedListener {
    inner: TcpListener,
    open: Arc<OpenConnections>,
    max_per_ip: usize,
    idle_timeout: Duration,
    /// Connections closed at once because their IP had too many open.
    pub refused: Arc<AtomicU64>,
}

impl LimitedListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, max_per_ip: usize, idle_timeout: Duration) -> Self {
        Self {
            inner,
            open: Arc::default(),
            max_per_ip,
            idle_timeout,
            refused: Arc::default(),
        }
    }

    fn open_slot(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let mut by_ip = self.open.by_ip();
        let count = by_ip.entry(ip).or_default();
        if *count >= self.max_per_ip {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            ip,
            open: self.open.clone(),
        })
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Some(slot) = self.open_slot(addr.ip()) else {
                self.refused.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(ip = %addr.ip(), "too many connections from one address; closed");
                continue; // dropping the stream closes it
            };
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY");
            }
            let idle = Box::pin(tokio::time::sleep(self.idle_timeout));
            return (
                LimitedStream {
                    inner: stream,
                    _slot: slot,
                    idle_timeout: self.idle_timeout,
                    idle,
                },
                addr,
            );
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection: counted against its IP while open; reads fail
/// with `TimedOut` once the client has sent nothing for the idle timeout.
pub struct LimitedStream {
    inner: TcpStream,
    _slot: ConnectionSlot,
    idle_timeout: Duration,
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    let deadline = tokio::time::Instant::now() + this.idle_timeout;
                    this.idle.as_mut().reset(deadline);
                }
                Poll::Ready(result)
            }
            Poll::Pending => match this.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "idle connection closed",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The client's address, for handlers and middleware (`ConnectInfo<ClientAddr>`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, LimitedListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, LimitedListener>) -> Self {
        Self(*stream.remote_addr())
    }
}
