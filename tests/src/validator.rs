//! A test that sits in a devnet as one of its validators: the genesis names
//! one validator more than there are relays, with a sliver of the stake
//! (polls seldom sample it, so what it leaves unanswered does not slow
//! consensus down), and the test holds that validator's key and speaks the
//! peer protocol on its own sealed link: what a rogue validator can do.

use crate::{peer_url, Devnet};
use futures_util::{SinkExt, StreamExt};
use ruv_consensus::Message;
use ruv_protocol::crypto::SigningKey;
use ruv_protocol::Genesis;
use ruv_relay::peer::handshake::{Challenge, Established, HandshakeRandom, Identity, Welcome};
use tokio_tungstenite::tungstenite::Message as Frame;

/// The WebSocket of a peer link, as a dialer holds it.
pub type PeerSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Starts `relays` relays of a devnet whose genesis has `relays + 1`
/// validators; the last one, of stake 1, is the test's (its key is
/// `devnet.files.relay_keys[relays]`).
pub async fn devnet_with_test_validator(relays: usize) -> Devnet {
    let dir = tempfile::tempdir().unwrap();
    let files = ruv_relay::devnet::init(dir.path(), relays + 1).unwrap();
    let mut genesis =
        Genesis::from_json(&std::fs::read_to_string(&files.genesis).unwrap()).unwrap();
    genesis.validators[relays].stake = 1;
    ruv_relay::chain_id::bind(&mut genesis, ruv_relay::devnet::DEVNET_NAME).unwrap();
    std::fs::write(
        &files.genesis,
        serde_json::to_string_pretty(&genesis).unwrap(),
    )
    .unwrap();
    Devnet::start_relays(dir, files, relays, |_| {}).await
}

/// A peer link the test holds as a validator, past the handshake.
pub struct PeerLink {
    /// The WebSocket.
    pub socket: PeerSocket,
    /// Frame sealing keys of the link.
    pub keys: Established,
}

impl PeerLink {
    /// Runs the dialer's side of the handshake as validator `validator` of
    /// `devnet` over `stream`, a TCP connection to relay `relay`.
    pub async fn join(
        devnet: &Devnet,
        relay: usize,
        validator: u16,
        stream: tokio::net::TcpStream,
    ) -> Self {
        let addr = devnet.relays[relay].addr;
        let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
        let (mut socket, _) = tokio_tungstenite::client_async(peer_url(addr), stream)
            .await
            .unwrap();
        let Some(Ok(Frame::Binary(challenge))) = socket.next().await else {
            panic!("no challenge")
        };
        let challenge = Challenge::from_bytes(&challenge).unwrap();
        let key: SigningKey =
            ruv_relay::keys::load(&devnet.files.relay_keys[usize::from(validator)]).unwrap();
        let validators: Vec<_> = devnet
            .genesis
            .validator_keys()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let us = Identity {
            key: &key,
            validator,
            genesis_hash: devnet.genesis.hash(),
            validators: &validators,
        };
        let random = HandshakeRandom {
            nonce: [3; 32],
            kem_seed: [4; 64],
            encapsulation: [5; 32],
            signing: [6; 32],
        };
        let (pending, hello) = us.hello(&challenge, random).unwrap();
        socket
            .send(Frame::Binary(hello.to_bytes().into()))
            .await
            .unwrap();
        let Some(Ok(Frame::Binary(welcome))) = socket.next().await else {
            panic!("no welcome")
        };
        let keys = pending
            .finish(&us, &Welcome::from_bytes(&welcome).unwrap())
            .unwrap();
        Self { socket, keys }
    }

    /// Seals and sends `message`; false if the relay closed the link.
    pub async fn send(&mut self, message: &Message) -> bool {
        let sealed = self.keys.sealer.seal(&message.encode()).unwrap();
        self.socket.send(Frame::Binary(sealed.into())).await.is_ok()
    }

    /// The next consensus message the relay sends (None once the link ends).
    pub async fn next_message(&mut self) -> Option<Message> {
        loop {
            match self.socket.next().await? {
                Ok(Frame::Binary(bytes)) => {
                    let bytes = self.keys.opener.open(&bytes).unwrap();
                    if let Ok(message) = Message::decode(&bytes) {
                        return Some(message);
                    }
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}
