//! `--peer hyper` starts this binary again with `--serve-bare-proxy PORT`: it
//! must print the address it listens on, forward to the port, and refuse a bad
//! argument with a usage error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_uplink-bench");

/// An upstream that answers one request with a fixed body.
fn upstream() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(socket.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
            .unwrap();
        head
    });
    (port, served)
}

#[test]
fn serves_as_a_proxy_on_the_address_it_prints() {
    let (port, served) = upstream();
    let mut child = Command::new(BIN)
        .args(["--serve-bare-proxy", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: std::net::SocketAddr = line.trim().parse().unwrap();
    let mut socket = TcpStream::connect(addr).unwrap();
    socket
        .write_all(b"GET /v1/models?x=1 HTTP/1.1\r\nhost: proxy\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    socket.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    let head = served.join().unwrap();
    assert!(
        head.starts_with("GET /v1/models?x=1 HTTP/1.1\r\n"),
        "{head}"
    );
}

#[test]
fn a_bad_port_is_a_usage_error() {
    let out = Command::new(BIN)
        .args(["--serve-bare-proxy", "not-a-port"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-port"));
}
