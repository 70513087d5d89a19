//! The upstream HTTP client against raw servers on loopback: what goes on the
//! wire directly, through a forwarding proxy, a CONNECT tunnel and SOCKS5, and
//! how failures read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use bytes::Bytes;
use hyper_util::client::proxy::matcher::Matcher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use uplink_gateway::upstream::http::{Body, BuildError, Http, HttpError, read_body};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}";

/// One request as it arrived: the head (lower-cased header names are not
/// guaranteed, so tests compare case-insensitively) and the body.
struct Seen {
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn request_line(&self) -> &str {
        self.head.lines().next().unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Read one request head and its `content-length` body.
async fn read_request(stream: &mut TcpStream) -> Seen {
    let mut buf = Vec::new();
    let end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed before a whole head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8(buf[..end].to_vec()).unwrap();
    let mut body = buf[end..].to_vec();
    let seen = Seen { head, body: vec![] };
    let length: usize = seen
        .header("content-length")
        .map_or(0, |v| v.parse().unwrap());
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed before the whole body");
        body.extend_from_slice(&chunk[..n]);
    }
    Seen { body, ..seen }
}

/// A server that answers every request with `answer` and reports what it saw.
async fn origin(answer: &'static [u8]) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let seen = read_request(&mut stream).await;
                let _ = tx.send(seen);
                stream.write_all(answer).await.unwrap();
            });
        }
    });
    (addr, rx)
}

fn client(proxies: Matcher) -> Http {
    Http::with_proxies(proxies).unwrap()
}

fn no_proxies() -> Matcher {
    Matcher::builder().build()
}

#[tokio::test]
async fn a_direct_request_carries_its_headers_the_defaults_and_the_body() {
    let (addr, mut seen) = origin(OK).await;
    let http = client(no_proxies());
    let response = http
        .post(format!(
            "http://{addr}/v1internal:streamGenerateContent?alt=sse"
        ))
        .bearer_auth("secret-token")
        .header("content-type", "application/json")
        .body(r#"{"hello":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        &read_body(response, 1024).await.unwrap()[..],
        br#"{"ok":true}"#
    );

    let seen = seen.recv().await.unwrap();
    assert_eq!(
        seen.request_line(),
        "POST /v1internal:streamGenerateContent?alt=sse HTTP/1.1"
    );
    assert_eq!(seen.header("host"), Some(addr.to_string().as_str()));
    assert_eq!(seen.header("authorization"), Some("Bearer secret-token"));
    assert_eq!(seen.header("content-length"), Some("11"));
    assert_eq!(seen.header("accept"), Some("*/*"));
    assert!(seen.header("user-agent").unwrap().starts_with("uplink/"));
    assert_eq!(seen.body, br#"{"hello":1}"#);
}

#[tokio::test]
async fn a_body_in_two_parts_arrives_whole_in_order_with_its_length() {
    let (addr, mut seen) = origin(OK).await;
    let http = client(no_proxies());
    let rest = Bytes::from(format!(
        r#""model":"m","request":"{}"}}"#,
        "x".repeat(100_000)
    ));
    let body = Body::new(Bytes::from_static(br#"{"project":"p","#), rest);
    let length = body.len();
    let response = http
        .post(format!("http://{addr}/v1internal:streamGenerateContent"))
        .body_parts(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let first = seen.recv().await.unwrap();
    assert_eq!(
        first.header("content-length"),
        Some(length.to_string().as_str())
    );
    assert_eq!(first.header("transfer-encoding"), None);
    let sent: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(sent["project"], "p");
    assert_eq!(sent["request"].as_str().map(str::len), Some(100_000));
    // The parts are shared, not used up: the same body is sent again whole.
    http.post(format!("http://{addr}/again"))
        .body_parts(body)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.recv().await.unwrap().body.len(), length);
}

#[tokio::test]
async fn a_given_user_agent_replaces_the_default_and_forms_are_encoded() {
    let (addr, mut seen) = origin(OK).await;
    let http = client(no_proxies());
    let response = http
        .post(format!("http://{addr}/token"))
        .header("user-agent", "antigravity/1.0")
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "a b&c")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.recv().await.unwrap();
    assert_eq!(seen.header("user-agent"), Some("antigravity/1.0"));
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.body, b"grant_type=refresh_token&refresh_token=a+b%26c");
}

#[tokio::test]
async fn plain_http_goes_to_a_forwarding_proxy_in_absolute_form_with_its_credentials() {
    let (proxy, mut seen) = origin(OK).await;
    let http = client(
        Matcher::builder()
            .http(format!("http://user:pass@{proxy}"))
            .build(),
    );
    let response = http
        .get("http://upstream.test:9000/v1/models")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let seen = seen.recv().await.unwrap();
    assert_eq!(
        seen.request_line(),
        "GET http://upstream.test:9000/v1/models HTTP/1.1"
    );
    assert_eq!(seen.header("host"), Some("upstream.test:9000"));
    // base64("user:pass")
    assert_eq!(
        seen.header("proxy-authorization"),
        Some("Basic dXNlcjpwYXNz")
    );
}

#[tokio::test]
async fn https_is_tunnelled_through_the_proxy_and_tls_runs_inside_the_tunnel() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let connect = read_request(&mut stream).await;
        stream
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .unwrap();
        // What follows is the client's TLS handshake for the destination.
        let mut hello = vec![0u8; 512];
        let n = stream.read(&mut hello).await.unwrap();
        hello.truncate(n);
        (connect, hello)
    });
    let http = client(
        Matcher::builder()
            .https(format!("http://user:pass@{proxy}"))
            .build(),
    );
    // No real TLS server is behind the tunnel, so the exchange fails after the
    // handshake has begun.
    let sent = http
        .get("https://generativelanguage.test/v1beta/models")
        .send()
        .await;
    let (connect, hello) = server.await.unwrap();
    assert_eq!(
        connect.request_line(),
        "CONNECT generativelanguage.test:443 HTTP/1.1"
    );
    assert_eq!(
        connect.header("proxy-authorization"),
        Some("Basic dXNlcjpwYXNz")
    );
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record");
    let sni = b"generativelanguage.test";
    assert!(
        hello.windows(sni.len()).any(|w| w == sni),
        "the ClientHello names the destination, not the proxy"
    );
    let error = sent.unwrap_err();
    assert!(matches!(error, HttpError::Send(_)), "{error:?}");
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let (addr, mut seen) = origin(OK).await;
    // The proxy is a port nothing listens on: using it would fail.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let http = client(
        Matcher::builder()
            .all(format!("http://{dead}"))
            .no("127.0.0.1")
            .build(),
    );
    let response = http.get(format!("http://{addr}/x")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(seen.recv().await.unwrap().request_line(), "GET /x HTTP/1.1");
}

/// A SOCKS5 server without authentication that connects every request to
/// `target` and reports the host name it was asked for.
async fn socks5(target: SocketAddr) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut greeting = [0u8; 2];
        client.read_exact(&mut greeting).await.unwrap();
        assert_eq!(greeting[0], 5);
        let mut methods = vec![0u8; greeting[1] as usize];
        client.read_exact(&mut methods).await.unwrap();
        assert!(methods.contains(&0), "no-auth is offered");
        client.write_all(&[5, 0]).await.unwrap();
        let mut request = [0u8; 4];
        client.read_exact(&mut request).await.unwrap();
        assert_eq!(request[..2], [5, 1], "a CONNECT command");
        let host = match request[3] {
            // A domain name, for the proxy to resolve.
            3 => {
                let mut len = [0u8; 1];
                client.read_exact(&mut len).await.unwrap();
                let mut name = vec![0u8; len[0] as usize];
                client.read_exact(&mut name).await.unwrap();
                String::from_utf8(name).unwrap()
            }
            // An IPv4 address the client resolved.
            1 => {
                let mut ip = [0u8; 4];
                client.read_exact(&mut ip).await.unwrap();
                std::net::Ipv4Addr::from(ip).to_string()
            }
            // An IPv6 address the client resolved.
            4 => {
                let mut ip = [0u8; 16];
                client.read_exact(&mut ip).await.unwrap();
                format!("[{}]", std::net::Ipv6Addr::from(ip))
            }
            other => panic!("address type {other}"),
        };
        let mut port = [0u8; 2];
        client.read_exact(&mut port).await.unwrap();
        tx.send(format!("{host}:{}", u16::from_be_bytes(port)))
            .unwrap();
        client
            .write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
            .await
            .unwrap();
        let mut upstream = TcpStream::connect(target).await.unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    });
    (addr, rx)
}

/// GET `url` through the SOCKS proxy at `proxy` (a proxy URL): the origin's
/// answer comes back, and the origin sees the request in origin form, as if
/// it were asked directly.
async fn get_through_socks(proxy: String, url: &str, seen: &mut mpsc::UnboundedReceiver<Seen>) {
    let http = client(Matcher::builder().all(proxy).build());
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        seen.recv().await.unwrap().request_line(),
        "GET /v1/models HTTP/1.1"
    );
}

#[tokio::test]
async fn socks5h_proxies_are_asked_for_the_host_name() {
    let (origin_addr, mut seen) = origin(OK).await;
    let (proxy, mut asked) = socks5(origin_addr).await;
    let url = "http://upstream.test:8080/v1/models";
    get_through_socks(format!("socks5h://{proxy}"), url, &mut seen).await;
    assert_eq!(asked.recv().await.unwrap(), "upstream.test:8080");
}

#[tokio::test]
async fn socks5_proxies_are_given_an_address_resolved_here() {
    let (origin_addr, mut seen) = origin(OK).await;
    let (proxy, mut asked) = socks5(origin_addr).await;
    let url = "http://localhost:8080/v1/models";
    get_through_socks(format!("socks5://{proxy}"), url, &mut seen).await;
    // localhost, resolved here: 127.0.0.1 or ::1, whichever comes first.
    let asked = asked.recv().await.unwrap();
    assert!(
        asked
            .parse::<SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback() && a.port() == 8080),
        "{asked}"
    );
}

#[tokio::test]
async fn socks4a_proxies_are_asked_for_the_host_name() {
    let (origin_addr, mut seen) = origin(OK).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let asked = tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        // VN 4, CONNECT, port, 0.0.0.x (a name follows), user id, NUL, name, NUL.
        let mut head = [0u8; 8];
        client.read_exact(&mut head).await.unwrap();
        assert_eq!(head[..2], [4, 1], "a SOCKS4 CONNECT");
        assert_eq!(head[4..7], [0, 0, 0], "the 4a form: the proxy resolves");
        let port = u16::from_be_bytes([head[2], head[3]]);
        let mut rest = Vec::new();
        while rest.iter().filter(|&&b| b == 0).count() < 2 {
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).await.unwrap();
            rest.push(byte[0]);
        }
        let name = rest.split(|&b| b == 0).nth(1).unwrap().to_vec();
        client
            .write_all(&[0, 0x5a, 0, 0, 0, 0, 0, 0])
            .await
            .unwrap();
        let mut upstream = TcpStream::connect(origin_addr).await.unwrap();
        tokio::spawn(async move {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        });
        format!("{}:{port}", String::from_utf8(name).unwrap())
    });
    let url = "http://upstream.test:8080/v1/models";
    get_through_socks(format!("socks4a://{proxy}"), url, &mut seen).await;
    assert_eq!(asked.await.unwrap(), "upstream.test:8080");
}

#[tokio::test]
async fn an_https_proxy_url_is_refused_when_the_client_is_built() {
    let error = Http::with_proxies(Matcher::builder().https("https://proxy.test:3128").build())
        .unwrap_err();
    assert!(matches!(error, BuildError::ProxyScheme { .. }), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("https://proxy.test:3128"), "{text}");
    assert!(text.contains("use an http://, socks5://"), "{text}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let (addr, _seen) = origin(OK).await;
    let http = client(no_proxies());
    let response = http.get(format!("http://{addr}/")).send().await.unwrap();
    let error = read_body(response, 5).await.unwrap_err();
    assert!(matches!(error, HttpError::TooLarge(5)), "{error:?}");
}

#[tokio::test]
async fn failures_say_what_went_wrong() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = closed.local_addr().unwrap();
    drop(closed);
    let http = client(no_proxies());
    let error = http
        .get(format!("http://{dead}/"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, HttpError::Send(_)), "{error:?}");
    assert!(error.to_string().contains("refused"), "{error}");

    let error = http.get("/relative").send().await.unwrap_err();
    assert!(matches!(error, HttpError::Invalid(_)), "{error:?}");
    let error = http.get("http://bad host/").send().await.unwrap_err();
    assert!(matches!(error, HttpError::Invalid(_)), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_connect_that_stalls_gives_up_after_ten_seconds() {
    // The server accepts TCP and never answers the TLS handshake.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(stream);
    });
    let http = client(no_proxies());
    let started = tokio::time::Instant::now();
    let error = http
        .get(format!("https://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, HttpError::Send(_)), "{error:?}");
    assert!(
        error.to_string().contains("no connection within 10 s"),
        "{error}"
    );
    assert_eq!(started.elapsed().as_secs(), 10);
    held.abort();
}
