//! Relay URLs: the WebSocket endpoint from whatever a person or page gives.

use crate::error::{codes, ClientError};

/// Path of the relay's WebSocket endpoint.
pub const WS_PATH: &str = "/api/v1/ws";

/// The WebSocket URL of a relay.
///
/// Accepts a `ws://` or `wss://` URL (an empty path means the standard
/// endpoint [`WS_PATH`]), or an `http://` / `https://` base URL, whose scheme
/// becomes `ws` / `wss` and whose path gets [`WS_PATH`] appended (unless it
/// already ends with it). A query string is kept; fragments are refused
/// (the WebSocket constructor refuses them too).
pub fn websocket_url(input: &str) -> Result<String, ClientError> {
    let bad =
        |why: &str| ClientError::new(codes::INVALID_PARAMS, format!("relay URL {input:?}: {why}"));
    let input = input.trim();
    let (scheme, rest) = input
        .split_once("://")
        .ok_or_else(|| bad("expected ws://, wss://, http:// or https://"))?;
    let (ws_scheme, is_http) = match scheme.to_ascii_lowercase().as_str() {
        "ws" => ("ws", false),
        "wss" => ("wss", false),
        "http" => ("ws", true),
        "https" => ("wss", true),
        _ => return Err(bad("expected ws://, wss://, http:// or https://")),
    };
    if rest.contains('#') {
        return Err(bad("a fragment (#...) is not allowed"));
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains spaces or control characters"));
    }
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("expected a host (and no user name)"));
    }
    let path = if path.ends_with(WS_PATH) || (!is_http && !path.is_empty() && path != "/") {
        path.to_owned()
    } else {
        format!("{}{WS_PATH}", path.trim_end_matches('/'))
    };
    let mut url = format!("{ws_scheme}://{authority}{path}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    Ok(url)
}

/// The `http(s)://host[:port]` origin of a relay's WebSocket URL, for its
/// REST endpoints (such as the devnet faucet).
pub fn http_origin(ws_url: &str) -> Result<String, ClientError> {
    let url = websocket_url(ws_url)?;
    let (scheme, rest) = url
        .split_once("://")
        .expect("websocket_url output has a scheme");
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let scheme = if scheme == "wss" { "https" } else { "http" };
    Ok(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_endpoint() {
        let cases = [
            (
                "ws://127.0.0.1:7100/api/v1/ws",
                "ws://127.0.0.1:7100/api/v1/ws",
            ),
            ("ws://127.0.0.1:7100", "ws://127.0.0.1:7100/api/v1/ws"),
            ("ws://127.0.0.1:7100/", "ws://127.0.0.1:7100/api/v1/ws"),
            ("wss://relay.example/custom", "wss://relay.example/custom"),
            ("http://127.0.0.1:7100", "ws://127.0.0.1:7100/api/v1/ws"),
            ("http://127.0.0.1:7100/", "ws://127.0.0.1:7100/api/v1/ws"),
            (
                "HTTPS://relay.example/ruv/",
                "wss://relay.example/ruv/api/v1/ws",
            ),
            (
                "https://relay.example/api/v1/ws",
                "wss://relay.example/api/v1/ws",
            ),
            ("http://[::1]:7100?x=1", "ws://[::1]:7100/api/v1/ws?x=1"),
            ("  ws://h:1  ", "ws://h:1/api/v1/ws"),
        ];
        for (input, want) in cases {
            assert_eq!(websocket_url(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn refuses_what_a_websocket_cannot_open() {
        for input in [
            "",
            "127.0.0.1:7100",
            "ftp://h",
            "ws://",
            "ws:///x",
            "ws://h/#frag",
            "ws://u@h/",
            "ws://h /x",
        ] {
            assert_eq!(
                websocket_url(input).unwrap_err().code,
                codes::INVALID_PARAMS,
                "{input:?}"
            );
        }
    }

    #[test]
    fn origin_for_rest() {
        assert_eq!(
            http_origin("ws://127.0.0.1:7100/api/v1/ws").unwrap(),
            "http://127.0.0.1:7100"
        );
        assert_eq!(
            http_origin("wss://relay.example/x?y").unwrap(),
            "https://relay.example"
        );
    }
}
