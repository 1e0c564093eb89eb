//! Peer links between relays: WebSockets with binary frames (axum accepts at
//! `/peer/v1`, tokio-tungstenite dials), authenticated by [`handshake`] before
//! any other frame counts. Queues are bounded in bytes as well as frames: a
//! full outgoing queue drops the frame (and counts it) instead of growing,
//! and a peer that stops reading (a frame not written within
//! [`PEER_WRITE_TIMEOUT`]) is disconnected; each peer's frames waiting for
//! the driver are bounded in bytes and frames per peer, so one peer cannot
//! take the others' share and a full share slows only that peer's link down.
//! After the handshake every frame is sealed ([`seal`]): see
//! `docs/peer-links.md`.
//! Dialers reconnect with exponential backoff and jitter.

pub mod budget;
pub mod elide;
pub mod handshake;
pub mod seal;

use budget::ByteBudget;

use futures_util::{SinkExt, StreamExt};
use handshake::{Challenge, Established, HandshakeRandom, Hello, Identity, Welcome};
use ruv_protocol::crypto::{PublicKey, SigningKey};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Largest peer frame before sealing: the largest consensus message (a
/// full vertex of 30 transfers is about 170 KB; `Ancestors` answers fill
/// up to this).
pub const MAX_PEER_FRAME: usize = ruv_consensus::message::MAX_MESSAGE_LEN;
/// Largest WebSocket message on a peer link: a sealed [`MAX_PEER_FRAME`].
pub const MAX_PEER_WIRE_FRAME: usize = MAX_PEER_FRAME + seal::SEAL_OVERHEAD;
/// Bytes a peer link's WebSocket reads at once. The WebSocket library
/// zero-fills this much of its buffer before every read, so its default of
/// 128 KiB cost more than the reads themselves when frames are votes of a
/// few hundred bytes; a full vertex just takes a few more reads.
pub const PEER_READ_BUFFER: usize = 16 * 1024;
/// Frames queued to one peer before new ones are dropped.
pub const PEER_SEND_QUEUE: usize = 4096;
/// Bytes queued to one peer before new frames are dropped.
pub const PEER_SEND_QUEUE_BYTES: usize = 32 * 1024 * 1024;
/// A peer that does not take one frame within this long has stopped
/// reading: its link is closed (it reconnects, or is dialed again).
pub const PEER_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames from all peers waiting for the consensus driver.
pub const PEER_INBOUND_QUEUE: usize = 8192;
/// Bytes of one peer's frames waiting for the consensus driver; beyond
/// this, that link stops reading until the driver catches up.
pub const PEER_INBOUND_BYTES_PER_PEER: usize = 32 * 1024 * 1024;
/// Frames of one peer waiting for the consensus driver: each frame is
/// charged at least `PEER_INBOUND_BYTES_PER_PEER / PEER_INBOUND_FRAMES_PER_PEER`
/// bytes, so a peer sending many small frames holds at most this many of
/// the `PEER_INBOUND_QUEUE` shared slots; when more peers than
/// `PEER_INBOUND_QUEUE / PEER_INBOUND_FRAMES_PER_PEER` are busy, their
/// links wait for slots in turn (tokio's channel hands them out first come,
/// first served), so no peer starves the others.
pub const PEER_INBOUND_FRAMES_PER_PEER: usize = 1024;
const PEER_INBOUND_MIN_FRAME_COST: usize =
    PEER_INBOUND_BYTES_PER_PEER / PEER_INBOUND_FRAMES_PER_PEER;
// No peer can fill the queue shared by all peers on its own.
const _: () = assert!(PEER_INBOUND_FRAMES_PER_PEER < PEER_INBOUND_QUEUE);
/// How long a handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Accepted connections that may be in their handshake at once; more get
/// `503` before the WebSocket upgrade (each costs a signature check).
pub const MAX_PENDING_HANDSHAKES: usize = 16;
/// First redial delay (before jitter): after a link that was up for
/// [`LINK_STABLE_AFTER`], the dialer reconnects this soon, since what the
/// relays were deciding waits for it.
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A link up at least this long resets the dialer's backoff; one cut
/// sooner keeps doubling it, so a peer or an attacker that ends every link
/// at once is not redialed at the start delay for ever.
const LINK_STABLE_AFTER: Duration = Duration::from_millis(500);

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct PeerCounters {
    /// Frames received from authenticated peers.
    pub frames_received: AtomicU64,
    /// Frames handed to peer links.
    pub frames_sent: AtomicU64,
    /// Frames dropped because a peer's queue was full or it was not connected.
    pub frames_dropped_unsendable: AtomicU64,
    /// Connections dropped because their handshake failed (unknown or
    /// unauthenticated keys, other networks, garbage).
    pub handshakes_failed: AtomicU64,
    /// Frames from peers that failed to open (forged, replayed, reordered,
    /// reflected, truncated); each also closes its link.
    pub frames_dropped_malformed: AtomicU64,
    /// Links closed because the peer stopped reading.
    pub links_closed_not_reading: AtomicU64,
    /// Transfer bytes not sent because the peer already had them ([`elide`]).
    pub transfer_bytes_elided: AtomicU64,
    /// Frames from peers that failed to expand ([`elide::ElisionError`]);
    /// each also closes its link.
    pub frames_dropped_unexpandable: AtomicU64,
}

/// One of the [`MAX_PENDING_HANDSHAKES`] slots, held while a handshake runs.
pub struct HandshakeSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// A frame from an authenticated peer, waiting for the consensus driver;
/// its bytes count against the peer's inbound budget until it is dropped.
pub struct InboundFrame {
    /// The sending validator.
    pub from: u16,
    /// The frame.
    pub bytes: Vec<u8>,
    _budget: tokio::sync::OwnedSemaphorePermit,
}

/// What the peer links hand the consensus driver, in arrival order.
pub enum PeerEvent {
    /// A link to this validator came up; it comes before the link's frames.
    LinkUp(u16),
    /// A frame from an authenticated peer.
    Frame(InboundFrame),
}

/// Who we are and whom we may talk to.
pub struct PeerConfig {
    /// Our validator key.
    pub key: Arc<SigningKey>,
    /// Our index in genesis.
    pub validator: u16,
    /// The network.
    pub genesis_hash: [u8; 32],
    /// Validator keys by index.
    pub validators: Vec<PublicKey>,
    /// `ws://host:port/peer/v1` URLs to dial.
    pub dial: Vec<String>,
    /// Cancelled when the relay shuts down: dialers and links stop.
    pub shutdown: tokio_util::sync::CancellationToken,
}

struct Link {
    generation: u64,
    /// Dialed by the lower validator index of the two (see `run_link`).
    preferred: bool,
    outgoing: mpsc::Sender<Vec<u8>>,
    queued: Arc<ByteBudget>,
}

impl Link {
    /// Queues a frame if both the frame and the byte bounds allow.
    fn try_queue(&self, frame: Vec<u8>) -> bool {
        let len = frame.len();
        if len > MAX_PEER_FRAME || !self.queued.try_reserve(len) {
            return false;
        }
        if self.outgoing.try_send(frame).is_err() {
            self.queued.release(len);
            return false;
        }
        true
    }
}

/// The set of live peer links.
pub struct PeerNetwork {
    config: PeerConfig,
    links: Mutex<HashMap<u16, Link>>,
    next_generation: AtomicU64,
    handshake_slots: Arc<tokio::sync::Semaphore>,
    inbound: mpsc::Sender<PeerEvent>,
    /// Counters.
    pub counters: PeerCounters,
}

/// Which end of a link we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Dialed,
    Accepted,
}

/// The sending half of a link: binary frames in.
type FrameSink = std::pin::Pin<Box<dyn futures_util::Sink<Vec<u8>, Error = ()> + Send>>;
/// The receiving half of a link: binary frames out (`Err` ends the link).
type FrameStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Vec<u8>, ()>> + Send>>;

/// A framed, bidirectional byte channel (both WebSocket libraries fit it).
trait FrameIo: Send {
    /// The next binary frame; `None` when the connection ended.
    async fn recv(&mut self) -> Option<Result<Vec<u8>, ()>>;
    /// Sends one binary frame.
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), ()>;
    /// Splits the channel so that reading goes on while a write waits.
    fn into_halves(self) -> (FrameSink, FrameStream);
}

fn random_32() -> [u8; 32] {
    let mut out = [0u8; 32];
    getrandom::getrandom(&mut out).expect("the operating system's random source failed");
    out
}

/// What a frame of `len` bytes takes from its peer's inbound share (a
/// semaphore of `PEER_INBOUND_BYTES_PER_PEER` permits).
fn inbound_cost(len: usize) -> u32 {
    // Frames are at most MAX_PEER_FRAME: within u32 and the share.
    len.clamp(PEER_INBOUND_MIN_FRAME_COST, PEER_INBOUND_BYTES_PER_PEER) as u32
}

/// Fresh randomness for one side of one handshake.
fn handshake_random() -> HandshakeRandom {
    let mut random = HandshakeRandom {
        nonce: [0; 32],
        kem_seed: [0; 64],
        encapsulation: [0; 32],
        signing: [0; 32],
    };
    for buffer in [
        &mut random.nonce[..],
        &mut random.kem_seed[..],
        &mut random.encapsulation[..],
        &mut random.signing[..],
    ] {
        getrandom::getrandom(buffer).expect("the operating system's random source failed");
    }
    random
}

impl PeerNetwork {
    /// A network with no links yet, and the receiver of its events.
    pub fn new(config: PeerConfig) -> (Arc<Self>, mpsc::Receiver<PeerEvent>) {
        let (inbound, receiver) = mpsc::channel(PEER_INBOUND_QUEUE);
        let network = Arc::new(Self {
            config,
            links: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            handshake_slots: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_HANDSHAKES)),
            inbound,
            counters: PeerCounters::default(),
        });
        (network, receiver)
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            key: &self.config.key,
            validator: self.config.validator,
            genesis_hash: self.config.genesis_hash,
            validators: &self.config.validators,
        }
    }

    fn links(&self) -> std::sync::MutexGuard<'_, HashMap<u16, Link>> {
        self.links.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Validators we have a live, authenticated link to.
    pub fn connected(&self) -> Vec<u16> {
        let mut out: Vec<u16> = self.links().keys().copied().collect();
        out.sort_unstable();
        out
    }

    /// Queues a frame to one validator; returns false (and counts) if it was dropped.
    pub fn send(&self, to: u16, frame: Vec<u8>) -> bool {
        let sent = self
            .links()
            .get(&to)
            .is_some_and(|link| link.try_queue(frame));
        let counter = if sent {
            &self.counters.frames_sent
        } else {
            &self.counters.frames_dropped_unsendable
        };
        counter.fetch_add(1, Ordering::Relaxed);
        sent
    }

    /// Queues a frame to every connected validator.
    pub fn broadcast(&self, frame: &[u8]) {
        for to in self.connected() {
            self.send(to, frame.to_vec());
        }
    }

    /// Starts one dialer task per configured URL.
    pub fn spawn_dialers(self: &Arc<Self>) {
        for url in self.config.dial.clone() {
            let network = self.clone();
            let shutdown = self.config.shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = network.dial_forever(url) => {}
                }
            });
        }
    }

    async fn dial_forever(self: Arc<Self>, url: String) {
        let mut backoff = BACKOFF_START;
        loop {
            let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .max_message_size(Some(MAX_PEER_WIRE_FRAME))
                .max_frame_size(Some(MAX_PEER_WIRE_FRAME))
                .read_buffer_size(PEER_READ_BUFFER);
            match tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), true)
                .await
            {
                Ok((socket, _)) => {
                    let mut io = TungsteniteIo(socket);
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.dial_handshake(&mut io))
                        .await
                    {
                        Ok(Ok(link)) => {
                            let peer = link.peer;
                            let up = std::time::Instant::now();
                            if self.clone().run_link(link, io, Side::Dialed).await {
                                if up.elapsed() >= LINK_STABLE_AFTER {
                                    backoff = BACKOFF_START;
                                }
                                tracing::info!(%url, peer, "peer link down");
                            } else {
                                tracing::debug!(%url, peer, "peer already linked by its own dial");
                            }
                        }
                        Ok(Err(e)) => {
                            self.counters
                                .handshakes_failed
                                .fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%url, error = %e, "peer handshake failed");
                        }
                        Err(_) => {
                            self.counters
                                .handshakes_failed
                                .fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%url, "peer handshake timed out");
                        }
                    }
                }
                Err(e) => tracing::debug!(%url, error = %e, "peer not reachable"),
            }
            // Exponential backoff with jitter in [50%, 100%] so restarted relays do not stampede.
            let jitter = 0.5 + (random_32()[0] as f64 / 255.0) * 0.5;
            tokio::time::sleep(backoff.mul_f64(jitter)).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    async fn dial_handshake(&self, io: &mut impl FrameIo) -> Result<Established, String> {
        let frame = io
            .recv()
            .await
            .ok_or("closed before challenge")?
            .map_err(|()| "socket error")?;
        let challenge = Challenge::from_bytes(&frame).map_err(|e| e.to_string())?;
        let identity = self.identity();
        let (pending, hello) = identity
            .hello(&challenge, handshake_random())
            .map_err(|e| e.to_string())?;
        io.send(hello.to_bytes())
            .await
            .map_err(|()| "socket error")?;
        let frame = io
            .recv()
            .await
            .ok_or("closed before welcome")?
            .map_err(|()| "socket error")?;
        let welcome = Welcome::from_bytes(&frame).map_err(|e| e.to_string())?;
        pending
            .finish(&identity, &welcome)
            .map_err(|e| e.to_string())
    }

    /// A slot for one more accepted handshake, if fewer than
    /// [`MAX_PENDING_HANDSHAKES`] are under way.
    pub fn handshake_slot(&self) -> Option<HandshakeSlot> {
        self.handshake_slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| HandshakeSlot { _permit: permit })
    }

    /// Serves an accepted WebSocket (the `/peer/v1` route); the slot is
    /// given back when the handshake ends.
    pub async fn accept(
        self: Arc<Self>,
        socket: axum::extract::ws::WebSocket,
        slot: HandshakeSlot,
    ) {
        let mut io = AxumIo(socket);
        let handshake = async {
            let identity = self.identity();
            let pending = identity.challenge(handshake_random());
            io.send(pending.challenge().to_bytes())
                .await
                .map_err(|()| "socket error".to_string())?;
            let frame = io
                .recv()
                .await
                .ok_or("closed before hello")?
                .map_err(|()| "socket error")?;
            let hello = Hello::from_bytes(&frame).map_err(|e| e.to_string())?;
            let (established, welcome) = pending
                .welcome(&identity, &hello)
                .map_err(|e| e.to_string())?;
            io.send(welcome.to_bytes())
                .await
                .map_err(|()| "socket error".to_string())?;
            Ok::<Established, String>(established)
        };
        let outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await;
        drop(slot);
        match outcome {
            Ok(Ok(link)) => {
                self.run_link(link, io, Side::Accepted).await;
            }
            Ok(Err(e)) => {
                self.counters
                    .handshakes_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "refused a peer connection");
            }
            Err(_) => {
                self.counters
                    .handshakes_failed
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!("peer handshake timed out");
            }
        }
    }

    /// Pumps frames both ways until the link ends or is replaced by a
    /// newer one. False if it was not used (we dialed ourselves, or a
    /// preferred link to the peer is up).
    async fn run_link(self: Arc<Self>, link: Established, io: impl FrameIo, side: Side) -> bool {
        let Established {
            peer,
            mut sealer,
            mut opener,
        } = link;
        if peer == self.config.validator {
            return false; // dialed ourselves
        }
        // Two relays that dial each other would otherwise replace each
        // other's link forever (each redial ends the other's link, whose
        // dialer redials): both keep the link dialed by the lower index.
        let preferred = match side {
            Side::Dialed => self.config.validator < peer,
            Side::Accepted => peer < self.config.validator,
        };
        let (outgoing, mut queue) = mpsc::channel::<Vec<u8>>(PEER_SEND_QUEUE);
        let queued = Arc::new(ByteBudget::new(PEER_SEND_QUEUE_BYTES));
        let inbound_budget = Arc::new(tokio::sync::Semaphore::new(PEER_INBOUND_BYTES_PER_PEER));
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let link = Link {
            generation,
            preferred,
            outgoing,
            queued: queued.clone(),
        };
        // The first frame on the link says which link features we read.
        link.try_queue(elide::features_frame());
        // Otherwise the newest link to a peer wins; the older one ends when
        // its queue closes.
        {
            let mut links = self.links();
            if !preferred && links.get(&peer).is_some_and(|l| l.preferred) {
                return false;
            }
            links.insert(peer, link);
        }
        tracing::info!(peer, ?side, "peer link up");
        // The driver may then resend what the old link lost (an error here
        // means it stopped: the reader below ends at once too).
        let _ = self.inbound.send(PeerEvent::LinkUp(peer)).await;
        let (mut sink, mut stream) = io.into_halves();
        // Writing and reading run side by side: a write waiting for a slow
        // peer never stops this relay from reading that peer (two relays
        // both blocked writing to each other would otherwise never recover).
        // The reader sets this when the peer says it reads compact vertices.
        let peer_reads_compact = std::sync::atomic::AtomicBool::new(false);
        let writer = async {
            let mut eliding = elide::Eliding::default();
            while let Some(frame) = queue.recv().await {
                queued.release(frame.len());
                if peer_reads_compact.load(Ordering::Relaxed) {
                    eliding.peer_reads_compact();
                }
                let (frame, saved) = eliding.outgoing(frame);
                if saved > 0 {
                    self.counters
                        .transfer_bytes_elided
                        .fetch_add(saved as u64, Ordering::Relaxed);
                }
                let sealed = match sealer.seal(&frame) {
                    Ok(sealed) => sealed,
                    Err(e) => {
                        tracing::warn!(peer, error = %e, "could not seal a peer frame; link closed");
                        return;
                    }
                };
                match tokio::time::timeout(PEER_WRITE_TIMEOUT, sink.send(sealed)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(())) => return,
                    Err(_) => {
                        self.counters
                            .links_closed_not_reading
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(peer, "peer stopped reading; link closed");
                        return;
                    }
                }
            }
        };
        let reader = async {
            let mut expanding = elide::Expanding::default();
            while let Some(Ok(sealed)) = stream.next().await {
                let bytes = match opener.open(&sealed) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        self.counters
                            .frames_dropped_malformed
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(peer, error = %e, "peer frame failed to open; link closed");
                        return;
                    }
                };
                let bytes = match expanding.incoming(bytes) {
                    Ok(elide::Incoming::Frame(bytes)) => bytes,
                    Ok(elide::Incoming::PeerReadsCompact(reads)) => {
                        peer_reads_compact.store(reads, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => {
                        self.counters
                            .frames_dropped_unexpandable
                            .fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(peer, error = %e, "peer frame failed to expand; link closed");
                        return;
                    }
                };
                self.counters
                    .frames_received
                    .fetch_add(1, Ordering::Relaxed);
                let cost = inbound_cost(bytes.len());
                let Ok(budget) = inbound_budget.clone().acquire_many_owned(cost).await else {
                    return;
                };
                let frame = InboundFrame {
                    from: peer,
                    bytes,
                    _budget: budget,
                };
                if self.inbound.send(PeerEvent::Frame(frame)).await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            _ = self.config.shutdown.cancelled() => {}
            _ = writer => {}
            _ = reader => {}
        }
        let mut links = self.links();
        if links.get(&peer).is_some_and(|l| l.generation == generation) {
            links.remove(&peer);
        }
        true
    }
}

struct AxumIo(axum::extract::ws::WebSocket);

impl FrameIo for AxumIo {
    async fn recv(&mut self) -> Option<Result<Vec<u8>, ()>> {
        use axum::extract::ws::Message;
        loop {
            match self.0.recv().await? {
                Ok(Message::Binary(bytes)) => return Some(Ok(bytes.to_vec())),
                Ok(Message::Close(_)) | Err(_) => return Some(Err(())),
                Ok(_) => continue, // ping/pong/text: not part of the peer protocol
            }
        }
    }
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), ()> {
        self.0
            .send(axum::extract::ws::Message::Binary(frame.into()))
            .await
            .map_err(|_| ())
    }
    fn into_halves(self) -> (FrameSink, FrameStream) {
        use axum::extract::ws::Message;
        let (sink, stream) = self.0.split();
        let sink = sink
            .sink_map_err(|_| ())
            .with(|frame: Vec<u8>| std::future::ready(Ok(Message::Binary(frame.into()))));
        let stream = stream.filter_map(|message| {
            std::future::ready(match message {
                Ok(Message::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                Ok(Message::Close(_)) | Err(_) => Some(Err(())),
                Ok(_) => None, // ping/pong/text: not part of the peer protocol
            })
        });
        (Box::pin(sink), Box::pin(stream))
    }
}

struct TungsteniteIo(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl FrameIo for TungsteniteIo {
    async fn recv(&mut self) -> Option<Result<Vec<u8>, ()>> {
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match self.0.next().await? {
                Ok(Message::Binary(bytes)) => return Some(Ok(bytes.to_vec())),
                Ok(Message::Close(_)) | Err(_) => return Some(Err(())),
                Ok(_) => continue,
            }
        }
    }
    async fn send(&mut self, frame: Vec<u8>) -> Result<(), ()> {
        self.0
            .send(tokio_tungstenite::tungstenite::Message::Binary(
                frame.into(),
            ))
            .await
            .map_err(|_| ())
    }
    fn into_halves(self) -> (FrameSink, FrameStream) {
        use tokio_tungstenite::tungstenite::Message;
        let (sink, stream) = self.0.split();
        let sink = sink
            .sink_map_err(|_| ())
            .with(|frame: Vec<u8>| std::future::ready(Ok(Message::Binary(frame.into()))));
        let stream = stream.filter_map(|message| {
            std::future::ready(match message {
                Ok(Message::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                Ok(Message::Close(_)) | Err(_) => Some(Err(())),
                Ok(_) => None,
            })
        });
        (Box::pin(sink), Box::pin(stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_holds_a_bounded_share_of_the_inbound_queue() {
        let share = Arc::new(tokio::sync::Semaphore::new(PEER_INBOUND_BYTES_PER_PEER));
        let take = |len: usize| share.clone().try_acquire_many_owned(inbound_cost(len));
        // Tiny frames: at most PEER_INBOUND_FRAMES_PER_PEER of them.
        let held: Vec<_> = (0..PEER_INBOUND_FRAMES_PER_PEER)
            .map(|_| take(1).expect("within the share"))
            .collect();
        assert!(take(1).is_err(), "one tiny frame too many");
        drop(held);
        // Largest frames: bounded by bytes.
        let held: Vec<_> = (0..PEER_INBOUND_BYTES_PER_PEER / MAX_PEER_FRAME)
            .map(|_| take(MAX_PEER_FRAME).expect("within the share"))
            .collect();
        assert!(take(MAX_PEER_FRAME).is_err(), "one large frame too many");
        drop(held);
    }
}
