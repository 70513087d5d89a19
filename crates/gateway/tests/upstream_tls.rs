//! The upstream client over TLS against local servers with a generated
//! certificate: HTTP/2 or HTTP/1.1 as ALPN decides, HTTPS through a CONNECT
//! tunnel end to end, and a certificate the client does not trust.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use uplink_gateway::upstream::http::{Body, Http, HttpError, install_crypto_provider, read_body};

fn localhost_cert() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    (certified.cert.der().clone(), key)
}

/// A TLS server for `localhost` offering `alpn`; every answer names the HTTP
/// version and path it was asked with, and repeats the body it was sent. Returns its port and certificate.
async fn tls_server(alpn: &[&[u8]]) -> (u16, CertificateDer<'static>) {
    install_crypto_provider();
    let (cert, key) = localhost_cert();
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(tls);
                let answer = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                    let mut text = format!("{:?} {}", req.version(), req.uri().path());
                    let body = req.into_body().collect().await.unwrap().to_bytes();
                    if !body.is_empty() {
                        text.push(' ');
                        text.push_str(std::str::from_utf8(&body).unwrap());
                    }
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(text))))
                });
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, answer)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, answer)
                        .await;
                }
            });
        }
    });
    (port, cert)
}

/// A client that trusts `cert` (instead of the platform's store).
fn trusting(cert: &CertificateDer<'static>, proxies: Matcher) -> Http {
    install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Http::with_tls(proxies, tls).unwrap()
}

async fn get_text(http: &Http, url: &str) -> (http::Version, String) {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let version = response.version();
    let body = read_body(response, 1024).await.unwrap();
    (version, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn https_uses_http2_when_the_server_offers_it() {
    let (port, cert) = tls_server(&[b"h2", b"http/1.1"]).await;
    let http = trusting(&cert, Matcher::builder().build());
    let (version, text) = get_text(&http, &format!("https://localhost:{port}/v1/models")).await;
    assert_eq!(version, http::Version::HTTP_2);
    assert_eq!(text, "HTTP/2.0 /v1/models");
}

#[tokio::test]
async fn https_uses_http1_when_the_server_offers_only_that() {
    let (port, cert) = tls_server(&[b"http/1.1"]).await;
    let http = trusting(&cert, Matcher::builder().build());
    let (version, text) = get_text(&http, &format!("https://localhost:{port}/v1/models")).await;
    assert_eq!(version, http::Version::HTTP_11);
    assert_eq!(text, "HTTP/1.1 /v1/models");
}

#[tokio::test]
async fn a_body_in_two_parts_is_sent_whole_over_http2_and_http1() {
    let rest = format!(r#""request":"{}"}}"#, "x".repeat(50_000));
    for (alpn, version) in [
        (&[&b"h2"[..], b"http/1.1"][..], "HTTP/2.0"),
        (&[&b"http/1.1"[..]][..], "HTTP/1.1"),
    ] {
        let (port, cert) = tls_server(alpn).await;
        let http = trusting(&cert, Matcher::builder().build());
        let body = Body::new(
            Bytes::from_static(b"{\"project\":\"p\","),
            Bytes::from(rest.clone()),
        );
        let response = http
            .post(format!("https://localhost:{port}/v1internal"))
            .body_parts(body)
            .send()
            .await
            .unwrap();
        let text = read_body(response, 100_000).await.unwrap();
        assert_eq!(
            std::str::from_utf8(&text).unwrap(),
            format!("{version} /v1internal {{\"project\":\"p\",{rest}")
        );
    }
}

#[tokio::test]
async fn https_through_a_connect_tunnel_works_end_to_end() {
    let (port, cert) = tls_server(&[b"h2", b"http/1.1"]).await;
    // A proxy that accepts one CONNECT and pipes it to the TLS server.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let asked = tokio::spawn(async move {
        let (mut client, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .unwrap();
        let mut server = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        tokio::spawn(async move {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
        String::from_utf8(head).unwrap()
    });
    let http = trusting(
        &cert,
        Matcher::builder().https(format!("http://{proxy}")).build(),
    );
    let (version, text) = get_text(&http, &format!("https://localhost:{port}/v1/models")).await;
    assert_eq!(version, http::Version::HTTP_2);
    assert_eq!(text, "HTTP/2.0 /v1/models");
    let head = asked.await.unwrap();
    assert!(
        head.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
        "{head}"
    );
}

#[tokio::test]
async fn a_certificate_the_client_does_not_trust_is_refused_clearly() {
    let (port, _cert) = tls_server(&[b"h2", b"http/1.1"]).await;
    let (other, _) = localhost_cert();
    let http = trusting(&other, Matcher::builder().build());
    let error = http
        .get(format!("https://localhost:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, HttpError::Send(_)), "{error:?}");
    assert!(error.to_string().contains("certificate"), "{error}");
}
