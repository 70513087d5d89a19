//! A listener that can move to another address while the server runs: the admin
//! API asks through a [`ListenerControl`]; the [`Rebindable`] listener, owned by
//! the server's accept loop, binds the new address and swaps it in between two
//! accepts. Connections already accepted are not touched; the old socket is
//! closed as soon as the new one is in place.

use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::BindError;

/// A request to move the listener.
#[derive(Debug)]
pub struct Rebind {
    pub addr: SocketAddr,
    pub reply: oneshot::Sender<Result<SocketAddr, RebindError>>,
}

/// Why the listener could not move. It stays where it was.
#[derive(Debug, thiserror::Error)]
pub enum RebindError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("the server is not accepting connections (shutting down or not started)")]
    NotServing,
}

/// The handle the admin API uses: where the server listens now, and how to
/// move it.
#[derive(Debug)]
pub struct ListenerControl {
    addr: RwLock<SocketAddr>,
    tx: mpsc::Sender<Rebind>,
    rx: Mutex<Option<mpsc::Receiver<Rebind>>>,
}

impl ListenerControl {
    pub fn new(addr: SocketAddr) -> Self {
        let (tx, rx) = mpsc::channel(1);
        Self {
            addr: RwLock::new(addr),
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// The address the server listens on now.
    pub fn addr(&self) -> SocketAddr {
        match self.addr.read() {
            Ok(addr) => *addr,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Record where the server listens (before it serves).
    pub fn set_addr(&self, addr: SocketAddr) {
        match self.addr.write() {
            Ok(mut slot) => *slot = addr,
            Err(poisoned) => *poisoned.into_inner() = addr,
        }
    }

    /// Wrap the bound listener so that it obeys this control. Only the first
    /// call gets the request channel; later ones get a listener that never moves.
    pub fn attach(&self, listener: TcpListener) -> Rebindable {
        if let Ok(addr) = listener.local_addr() {
            self.set_addr(addr);
        }
        let rx = self.rx.lock().ok().and_then(|mut rx| rx.take());
        Rebindable {
            current: Some(listener),
            requests: rx,
        }
    }

    /// Move the listener to `addr` (port 0 picks a free port) and return the
    /// address it is bound to now.
    pub async fn rebind(&self, addr: SocketAddr) -> Result<SocketAddr, RebindError> {
        // Nothing serves from this control yet (a router used without a
        // listener): nobody would answer.
        if self.rx.lock().map_or(true, |rx| rx.is_some()) {
            return Err(RebindError::NotServing);
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Rebind { addr, reply })
            .await
            .map_err(|_| RebindError::NotServing)?;
        let bound = answer.await.map_err(|_| RebindError::NotServing)??;
        self.set_addr(bound);
        Ok(bound)
    }
}

/// The server's listener: a TCP listener that a [`Rebind`] request replaces.
#[derive(Debug)]
pub struct Rebindable {
    current: Option<TcpListener>,
    requests: Option<mpsc::Receiver<Rebind>>,
}

impl Rebindable {
    async fn rebind(&mut self, addr: SocketAddr) -> Result<SocketAddr, BindError> {
        let old = self.current.as_ref().and_then(|l| l.local_addr().ok());
        match super::bind(addr).await {
            Ok(listener) => return self.swap(listener, addr),
            // Same port, another address (loopback ↔ all interfaces): the old
            // socket holds the port, so it has to go first.
            Err(e)
                if e.source.kind() == std::io::ErrorKind::AddrInUse
                    && old.is_some_and(|o| o.port() == addr.port()) => {}
            Err(e) => return Err(e),
        }
        self.current = None;
        match super::bind(addr).await {
            Ok(listener) => self.swap(listener, addr),
            Err(e) => {
                if let Some(old) = old {
                    match super::bind(old).await {
                        Ok(listener) => self.current = Some(listener),
                        Err(again) => {
                            tracing::error!("could not listen on {old} again: {again}");
                        }
                    }
                }
                Err(e)
            }
        }
    }

    /// Put `listener` in place (the old one closes) and say where it listens.
    fn swap(&mut self, listener: TcpListener, asked: SocketAddr) -> Result<SocketAddr, BindError> {
        let addr = listener.local_addr().unwrap_or(asked);
        self.current = Some(listener);
        tracing::info!("now listening on http://{addr}");
        Ok(addr)
    }
}

impl axum::serve::Listener for Rebindable {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (requests, current) = (&mut self.requests, &self.current);
            let event = tokio::select! {
                biased;
                request = async {
                    match requests.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => Event::Request(request),
                accepted = async {
                    match current.as_ref() {
                        Some(listener) => listener.accept().await,
                        None => std::future::pending().await,
                    }
                } => Event::Accepted(accepted),
            };
            match event {
                Event::Request(Some(Rebind { addr, reply })) => {
                    let result = self.rebind(addr).await.map_err(RebindError::from);
                    let _ = reply.send(result);
                }
                Event::Request(None) => self.requests = None,
                Event::Accepted(Ok(connection)) => return connection,
                Event::Accepted(Err(e)) => accept_error(e).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        match self.current.as_ref() {
            Some(listener) => listener.local_addr(),
            None => Err(std::io::Error::other("not listening")),
        }
    }
}

enum Event {
    Request(Option<Rebind>),
    Accepted(std::io::Result<(TcpStream, SocketAddr)>),
}

/// As axum does: a failed connection is skipped; anything else (out of file
/// descriptors) is logged and waited out a little.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;

    #[tokio::test]
    async fn moves_to_a_new_port_and_keeps_the_old_one_when_binding_fails() {
        let listener = super::super::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let first = listener.local_addr().unwrap();
        let control = std::sync::Arc::new(ListenerControl::new(first));
        assert!(matches!(
            control.rebind("127.0.0.1:0".parse().unwrap()).await,
            Err(RebindError::NotServing)
        ));
        let mut rebindable = control.attach(listener);
        assert_eq!(control.addr(), first);

        // Something else holds this port: the move fails, nothing changes.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken_addr = taken.local_addr().unwrap();
        let c = control.clone();
        let asked = tokio::spawn(async move { c.rebind(taken_addr).await });
        let accept = tokio::time::timeout(Duration::from_millis(200), rebindable.accept()).await;
        assert!(accept.is_err(), "no connection was made");
        assert!(matches!(asked.await.unwrap(), Err(RebindError::Bind(_))));
        assert_eq!(rebindable.local_addr().unwrap(), first);

        let c = control.clone();
        let asked = tokio::spawn(async move { c.rebind("127.0.0.1:0".parse().unwrap()).await });
        let _ = tokio::time::timeout(Duration::from_millis(200), rebindable.accept()).await;
        let second = asked.await.unwrap().unwrap();
        assert_ne!(second, first);
        assert_eq!(control.addr(), second);
        // The old port is free again and the new one accepts.
        drop(std::net::TcpListener::bind(first).unwrap());
        let connect = tokio::spawn(async move { TcpStream::connect(second).await });
        let (_io, _peer) = rebindable.accept().await;
        connect.await.unwrap().unwrap();
    }
}
