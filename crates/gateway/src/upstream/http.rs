//! The shared upstream HTTP client: one connection pool for the whole process,
//! built once and cloned cheaply. HTTP/1.1, or HTTP/2 when the server offers it
//! by ALPN, over rustls (ring provider, the platform's certificate verifier);
//! `TCP_NODELAY`; and the proxy the environment names, as curl reads it:
//! `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (upper or lower case) and
//! `NO_PROXY`. An `http://` proxy tunnels HTTPS with `CONNECT` and is sent plain
//! HTTP requests in absolute form; `socks5://`, `socks5h://`, `socks4://` and
//! `socks4a://` proxies are spoken to directly. User and password in the proxy
//! URL are used.
//!
//! It is hyper-util's pooled client with a thin request builder on top, not a
//! general-purpose HTTP library: upstream APIs do not redirect, compress or set
//! cookies, and per-request work that serves none of that (URL re-parsing,
//! redirect bookkeeping) is what the proxied path cannot afford.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http::header::{self, HeaderName, HeaderValue};
use http::uri::Scheme;
use http::{Method, Uri};
use http_body_util::{BodyDataStream, BodyExt, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tower::Service;

/// An answer whose body has not been read yet.
pub type Response = http::Response<Incoming>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
const POOL_MAX_IDLE_PER_HOST: usize = 64;
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// The most of an answer read whole (JSON answers and error bodies).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
const USER_AGENT: &str = concat!("uplink/", env!("CARGO_PKG_VERSION"));

/// Headers that carry secrets: marked sensitive, so that nothing prints them.
const CREDENTIALS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("x-api-key"),
    HeaderName::from_static("x-goog-api-key"),
];

static PROVIDER: Once = Once::new();

/// Install rustls' ring crypto provider for the process (idempotent).
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // Err means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why the client could not be built (at start-up).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot load the platform's TLS certificate verifier: {0}")]
    Tls(#[from] rustls::Error),
    /// The proxy the environment names for `scheme` URLs speaks a protocol
    /// the client does not (an `https://` proxy, say).
    #[error(
        "the proxy for {scheme} URLs, {proxy}, is not supported: use an http://, socks5:// or socks4:// proxy, or unset the variable"
    )]
    ProxyScheme { scheme: &'static str, proxy: String },
}

impl BuildError {
    /// Whether the fault is in the user's settings (the proxy variables), not
    /// in the machine.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::ProxyScheme { .. })
    }
}

/// A failed exchange, with the cause chain in its message.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be built (a malformed URL or header value).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No answer: connect, TLS, proxy or a connection lost before the head.
    #[error("{0}")]
    Send(String),
    /// The answer's body broke off or could not be read.
    #[error("{0}")]
    Body(String),
    /// The body is larger than the caller accepts.
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

impl HttpError {
    fn send(error: &(dyn std::error::Error + 'static)) -> Self {
        Self::Send(chain(error))
    }

    fn body(error: &(dyn std::error::Error + 'static)) -> Self {
        Self::Body(chain(error))
    }
}

/// An error and its sources as one line: "a: b: c", leaving out a source whose
/// text its parent already shows.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// The client. Cheap to clone: the pool and the proxy rules are shared.
#[derive(Clone)]
pub struct Http {
    client: Client<ConnectTimeout<HttpsConnector<ProxyConnector>>, Body>,
    proxies: Arc<Matcher>,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// The client, with the proxies the environment names.
    pub fn new() -> Result<Self, BuildError> {
        Self::with_proxies(Matcher::from_env())
    }

    /// The client, with the given proxy rules.
    pub fn with_proxies(proxies: Matcher) -> Result<Self, BuildError> {
        Self::with_tls(proxies, tls_config()?)
    }

    /// The client, with the given proxy rules and TLS settings (their ALPN
    /// protocols are replaced: HTTP/2, then HTTP/1.1).
    pub fn with_tls(proxies: Matcher, mut tls: rustls::ClientConfig) -> Result<Self, BuildError> {
        install_crypto_provider();
        // The connector sets them, and refuses a config that has some.
        tls.alpn_protocols.clear();
        for (scheme, probe) in [
            ("http", "http://upstream.invalid/"),
            ("https", "https://upstream.invalid/"),
        ] {
            let Some(proxy) = proxies.intercept(&Uri::from_static(probe)) else {
                continue;
            };
            if !matches!(
                proxy.uri().scheme_str(),
                Some("http" | "socks5" | "socks5h" | "socks4" | "socks4a")
            ) {
                return Err(BuildError::ProxyScheme {
                    scheme,
                    proxy: proxy.uri().to_string(),
                });
            }
        }
        let proxies = Arc::new(proxies);

        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(TCP_KEEPALIVE));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(ProxyConnector {
                tcp,
                proxies: proxies.clone(),
            });
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .build(ConnectTimeout(connector));
        Ok(Self { client, proxies })
    }

    pub fn get<U>(&self, url: U) -> RequestBuilder<'_>
    where
        Uri: TryFrom<U>,
        <Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        self.request(Method::GET, url)
    }

    pub fn post<U>(&self, url: U) -> RequestBuilder<'_>
    where
        Uri: TryFrom<U>,
        <Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        self.request(Method::POST, url)
    }

    pub fn request<U>(&self, method: Method, url: U) -> RequestBuilder<'_>
    where
        Uri: TryFrom<U>,
        <Uri as TryFrom<U>>::Error: Into<http::Error>,
    {
        RequestBuilder {
            http: self,
            builder: http::Request::builder().method(method).uri(url),
            body: Body::default(),
        }
    }

    async fn send(&self, mut request: http::Request<Body>) -> Result<Response, HttpError> {
        let uri = request.uri();
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(HttpError::Invalid(format!(
                "{uri} is not an absolute http(s) URL"
            )));
        }
        // A plain-HTTP request to a forwarding proxy carries the proxy's
        // credentials itself (a tunnel sends them with CONNECT).
        if uri.scheme() == Some(&Scheme::HTTP)
            && let Some(auth) = self
                .proxies
                .intercept(uri)
                .filter(|p| p.uri().scheme() == Some(&Scheme::HTTP))
                .and_then(|p| p.basic_auth().cloned())
        {
            request
                .headers_mut()
                .insert(header::PROXY_AUTHORIZATION, auth);
        }
        let headers = request.headers_mut();
        for name in CREDENTIALS {
            if let Some(value) = headers.get_mut(name) {
                value.set_sensitive(true);
            }
        }
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        }
        if !headers.contains_key(header::ACCEPT) {
            headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        }
        self.client
            .request(request)
            .await
            .map_err(|e| HttpError::send(&e))
    }
}

/// rustls with the ring provider and the platform's verifier; ALPN is set by
/// the connector.
fn tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    use hyper_rustls::ConfigBuilderExt;
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .try_with_platform_verifier()?
    .with_no_client_auth())
}

/// A request being built; a malformed URL or header surfaces at `send`.
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder<'a> {
    http: &'a Http,
    builder: http::request::Builder,
    body: Body,
}

impl RequestBuilder<'_> {
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        self.builder = self.builder.header(name, value);
        self
    }

    /// `Authorization: Bearer …`.
    pub fn bearer_auth(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION, format!("Bearer {token}"))
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::from(body.into());
        self
    }

    /// A body sent in parts (see [`Body`]).
    pub fn body_parts(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// An `application/x-www-form-urlencoded` body.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .body(body)
    }

    pub async fn send(self) -> Result<Response, HttpError> {
        let request = self
            .builder
            .body(self.body)
            .map_err(|e| HttpError::Invalid(e.to_string()))?;
        self.http.send(request).await
    }
}

/// A request body of one or two parts, sent in order with an exact length.
/// A Cloud Code request is its account's few bytes of envelope before the
/// request's shared rest: an attempt builds the first, and copies neither.
#[derive(Debug, Clone, Default)]
pub struct Body {
    head: Bytes,
    tail: Bytes,
}

impl Body {
    pub fn new(head: Bytes, tail: Bytes) -> Self {
        Self { head, tail }
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Bytes> for Body {
    fn from(head: Bytes) -> Self {
        Self::new(head, Bytes::new())
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let part = if this.head.is_empty() {
            std::mem::take(&mut this.tail)
        } else {
            std::mem::take(&mut this.head)
        };
        Poll::Ready((!part.is_empty()).then(|| Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len() as u64)
    }
}

/// Read a whole body, at most `limit` bytes.
pub async fn read_body(response: Response, limit: usize) -> Result<Bytes, HttpError> {
    match Limited::new(response.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(HttpError::TooLarge(limit)),
        Err(e) => Err(HttpError::body(e.as_ref())),
    }
}

/// The body's data frames as they arrive.
pub fn body_stream(
    response: Response,
) -> impl Stream<Item = Result<Bytes, HttpError>> + Send + Unpin {
    use futures_util::StreamExt;
    BodyDataStream::new(response.into_body()).map(|r| r.map_err(|e| HttpError::body(&e)))
}

/// `Retry-After` in seconds (fractions allowed).
pub fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Connects to a destination directly, or through the proxy the rules name for
/// it. TLS to the destination is the outer `HttpsConnector`'s, so it runs end
/// to end through a tunnel.
#[derive(Clone)]
struct ProxyConnector {
    tcp: HttpConnector,
    proxies: Arc<Matcher>,
}

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let tcp = self.tcp.clone();
        let proxy = self.proxies.intercept(&dst);
        Box::pin(async move {
            match proxy {
                None => connect_direct(tcp, dst).await,
                Some(proxy) => connect_via(tcp, &proxy, dst)
                    .await
                    .map_err(|e| format!("proxy {}: {}", proxy.uri(), chain(e.as_ref())).into()),
            }
        })
    }
}

async fn connect_direct(mut tcp: HttpConnector, dst: Uri) -> Result<Conn, BoxError> {
    Ok(Conn::new(tcp.call(dst).await?, false))
}

async fn connect_via(
    mut tcp: HttpConnector,
    proxy: &Intercept,
    dst: Uri,
) -> Result<Conn, BoxError> {
    let proxy_uri = proxy.uri().clone();
    match proxy.uri().scheme_str().unwrap_or("") {
        "http" if dst.scheme() == Some(&Scheme::HTTPS) => {
            let mut tunnel = Tunnel::new(proxy_uri, tcp);
            if let Some(auth) = proxy.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            Ok(Conn::new(tunnel.call(dst).await?, false))
        }
        // Plain HTTP goes to the proxy in absolute form.
        "http" => Ok(Conn::new(tcp.call(proxy_uri).await?, true)),
        scheme @ ("socks5" | "socks5h") => {
            let mut socks = SocksV5::new(proxy_uri, tcp).local_dns(scheme == "socks5");
            if let Some((user, pass)) = proxy.raw_auth() {
                socks = socks.with_auth(user.to_owned(), pass.to_owned());
            }
            Ok(Conn::new(socks.call(dst).await?, false))
        }
        scheme @ ("socks4" | "socks4a") => {
            let mut socks = SocksV4::new(proxy_uri, tcp).local_dns(scheme == "socks4");
            Ok(Conn::new(socks.call(dst).await?, false))
        }
        other => Err(format!("{other}:// proxies are not supported").into()),
    }
}

/// Bounds a whole connect: TCP, the proxy's handshake and TLS.
#[derive(Clone)]
struct ConnectTimeout<C>(C);

impl<C> Service<Uri> for ConnectTimeout<C>
where
    C: Service<Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.0.call(dst);
        Box::pin(async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => {
                    Err(format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()).into())
                }
            }
        })
    }
}

/// A TCP connection to the destination, or to a forwarding proxy.
struct Conn {
    io: TokioIo<tokio::net::TcpStream>,
    /// Requests on it go in absolute form (a forwarding proxy).
    forwarding: bool,
}

impl Conn {
    fn new(io: TokioIo<tokio::net::TcpStream>, forwarding: bool) -> Self {
        Self { io, forwarding }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.forwarding)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}
