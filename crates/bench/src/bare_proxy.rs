//! The bare-proxy peer (`--peer hyper`): an HTTP/1 reverse proxy made of
//! hyper's server and hyper-util's pooled client on one thread, forwarding each
//! request to the stand-in and its answer back as bytes it never reads. It runs
//! as a process of its own, like the gateway, and does none of a gateway's work
//! (no parsing, translation, account choice or logging), so what it adds over a
//! direct call is the least a proxy adds on this machine: the yardstick beside
//! the gateway's figures.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::peer::Peer;

/// The hidden flag that makes `uplink-bench` serve as the bare proxy.
pub const FLAG: &str = "--serve-bare-proxy";

/// Start the bare proxy in front of the stand-in on `standin`: this binary
/// again, in its own process group, which prints its address when it listens.
pub fn start(standin: u16) -> Result<Peer, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut child = Command::new(exe)
        .args([FLAG, &standin.to_string()])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the bare proxy: {e}"))?;
    let mut line = String::new();
    let read = child
        .stdout
        .take()
        .map(|out| BufReader::new(out).read_line(&mut line));
    let peer = Peer::new(child, format!("http://{}", line.trim()), None);
    match read {
        Some(Ok(n)) if n > 0 && line.trim().parse::<std::net::SocketAddr>().is_ok() => Ok(peer),
        _ => Err(format!(
            "the bare proxy did not report its address (got {:?})",
            line.trim()
        )),
    }
}

/// Serve as the bare proxy until killed; exits non-zero when it cannot listen.
pub fn serve(upstream: &str) -> ExitCode {
    let Ok(port) = upstream.parse::<u16>() else {
        eprintln!("error: {FLAG} takes the stand-in's port, not {upstream:?}");
        return ExitCode::from(crate::EXIT_USAGE);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: the bare proxy cannot start its runtime: {e}");
            return ExitCode::from(crate::EXIT_CANNOT_RUN);
        }
    };
    match runtime.block_on(run(port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the bare proxy cannot listen: {e}");
            ExitCode::from(crate::EXIT_CANNOT_RUN)
        }
    }
}

async fn run(upstream: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    // The parent reads this line to learn where to send requests.
    println!("{}", listener.local_addr()?);
    proxy(listener, upstream).await
}

/// Forward every connection `listener` accepts to `127.0.0.1:upstream`.
async fn proxy(listener: TcpListener, upstream: u16) -> std::io::Result<()> {
    let authority = Authority::from_maybe_shared(format!("127.0.0.1:{upstream}"))
        .map_err(std::io::Error::other)?;
    let client: Client<HttpConnector, Incoming> = crate::load::client();
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let (client, authority) = (client.clone(), authority.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), authority.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

type Answer = Response<Either<Incoming, Full<Bytes>>>;

/// Send `req` on to the stand-in as it is, and its answer back as it comes;
/// an upstream failure is a 502.
async fn forward(
    client: Client<HttpConnector, Incoming>,
    authority: Authority,
    mut req: Request<Incoming>,
) -> Result<Answer, Infallible> {
    let mut parts = req.uri().clone().into_parts();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    match Uri::from_parts(parts) {
        Ok(uri) => *req.uri_mut() = uri,
        Err(e) => return Ok(failure(StatusCode::BAD_REQUEST, e.to_string())),
    }
    Ok(match client.request(req).await {
        Ok(answer) => answer.map(Either::Left),
        Err(e) => failure(StatusCode::BAD_GATEWAY, e.to_string()),
    })
}

fn failure(status: StatusCode, message: String) -> Answer {
    let mut answer = Response::new(Either::Right(Full::new(Bytes::from(message))));
    *answer.status_mut() = status;
    answer
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::scenarios::UNARY_MODEL;
    use crate::standin::StandIn;

    async fn call(port: u16, body: &str) -> (StatusCode, String) {
        let client: crate::load::Client = crate::load::client();
        let request = Request::post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .unwrap();
        let answer = client.request(request).await.unwrap();
        let status = answer.status();
        let bytes = answer.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn start_proxy(upstream: u16) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(proxy(listener, upstream));
        port
    }

    #[tokio::test]
    async fn answers_pass_through_unchanged() {
        let standin = StandIn::start(Vec::new()).await.unwrap();
        let proxy = start_proxy(standin.port()).await;
        let body =
            format!(r#"{{"model":"{UNARY_MODEL}","messages":[{{"role":"user","content":"hi"}}]}}"#);
        let (direct_status, direct) = call(standin.port(), &body).await;
        let (status, through) = call(proxy, &body).await;
        assert_eq!((status, direct_status), (StatusCode::OK, StatusCode::OK));
        // The same answer, but for its generated id and timestamp.
        let shape =
            |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["choices"].clone();
        assert_eq!(shape(&through), shape(&direct));
        assert!(through.contains("tok "), "{through}");
    }

    /// The scenarios marked `peer` are the lanes the README compares with a
    /// peer: each must be an OpenAI chat request (LiteLLM is set up as an
    /// OpenAI pass-through), and its answer through the bare proxy must pass
    /// the scenario's own check.
    #[tokio::test]
    async fn every_peer_scenario_passes_through_and_checks_out() {
        let standin = StandIn::start(Vec::new()).await.unwrap();
        let proxy = start_proxy(standin.port()).await;
        let client: crate::load::Client = crate::load::client();
        let peers: Vec<_> = crate::scenarios::all()
            .into_iter()
            .filter(|s| s.peer)
            .collect();
        let names: Vec<_> = peers.iter().map(|s| s.name).collect();
        assert!(names.contains(&"openai-100k-tools"), "{names:?}");
        for scenario in peers {
            assert_eq!(scenario.path, "/v1/chat/completions", "{}", scenario.name);
            let uri = scenario.uri(&format!("http://127.0.0.1:{proxy}")).unwrap();
            let answer = client
                .request(scenario.request(&uri, 0, 1).unwrap())
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let body = answer.into_body().collect().await.unwrap().to_bytes();
            let text = String::from_utf8_lossy(&body);
            let tokens = text.matches("tok ").count();
            let terminated = scenario.terminator().is_some_and(|end| text.contains(end));
            let checked = scenario.verify(status, &body, tokens, terminated);
            assert!(checked.is_ok(), "{}: {checked:?}", scenario.name);
        }
    }

    #[tokio::test]
    async fn an_unreachable_upstream_is_a_502() {
        // A port that was free a moment ago: nothing listens there.
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let proxy = start_proxy(free).await;
        let (status, text) = call(proxy, "{}").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(!text.is_empty());
    }
}
