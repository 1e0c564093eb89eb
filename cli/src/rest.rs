//! Blocking HTTP to one relay's REST API (`/api/v1/...`). Answers are
//! parsed here and judged by the caller; nothing here trusts them.

use ruv_protocol::api::{ApiError, ErrorBody};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Read;
use std::time::Duration;

/// Time to open a connection to a relay.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest answer read (a certificate signed by all 256 validators is
/// about 850 KB).
pub const MAX_RESPONSE_BYTES: u64 = 2 * 1024 * 1024;

/// Why a relay gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayError {
    /// Could not connect, or the connection broke or timed out.
    Unreachable(String),
    /// The relay answered with an API error (`{"error": {...}}`).
    Api(ApiError),
    /// The answer is not what the API specifies (not JSON, wrong shape, too large).
    Malformed(String),
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayError::Unreachable(why) => write!(f, "{why}"),
            RelayError::Api(e) => write!(f, "{} ({})", e.message, e.code),
            RelayError::Malformed(why) => write!(f, "malformed answer: {why}"),
        }
    }
}

/// An HTTP client for relays.
#[derive(Debug, Clone)]
pub struct Rest {
    agent: ureq::Agent,
}

impl Default for Rest {
    fn default() -> Self {
        Self::new()
    }
}

impl Rest {
    /// A client with the timeouts above.
    pub fn new() -> Self {
        Self {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .user_agent(concat!("ruv-cli/", env!("CARGO_PKG_VERSION")))
                .build(),
        }
    }

    /// `GET {relay}/api/v1{path}`.
    pub fn get<T: DeserializeOwned>(&self, relay: &str, path: &str) -> Result<T, RelayError> {
        decode(self.agent.get(&format!("{relay}/api/v1{path}")).call())
    }

    /// `POST {relay}/api/v1{path}` with a JSON body.
    pub fn post<T: DeserializeOwned>(
        &self,
        relay: &str,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, RelayError> {
        let body = serde_json::to_value(body).map_err(|e| RelayError::Malformed(e.to_string()))?;
        decode(
            self.agent
                .post(&format!("{relay}/api/v1{path}"))
                .send_json(body),
        )
    }
}

fn read_body(response: ureq::Response) -> Result<Vec<u8>, RelayError> {
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| RelayError::Unreachable(format!("reading the answer failed: {e}")))?;
    if bytes.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(RelayError::Malformed(format!(
            "answer larger than {MAX_RESPONSE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

fn decode<T: DeserializeOwned>(
    result: Result<ureq::Response, ureq::Error>,
) -> Result<T, RelayError> {
    match result {
        Ok(response) => {
            let bytes = read_body(response)?;
            serde_json::from_slice(&bytes).map_err(|e| RelayError::Malformed(e.to_string()))
        }
        Err(ureq::Error::Status(status, response)) => {
            let bytes = read_body(response)?;
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => Err(RelayError::Api(body.error)),
                Err(_) => Err(RelayError::Malformed(format!(
                    "HTTP {status} without an API error body"
                ))),
            }
        }
        Err(ureq::Error::Transport(t)) => Err(RelayError::Unreachable(t.to_string())),
    }
}
