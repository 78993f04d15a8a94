//! A tiny HTTP proxy on 127.0.0.1 in front of the moto S3 server whose behaviour a test
//! switches per request: pass through, answer an HTTP error, delay, or drop the connection.
//!
//! Each request is read whole (head and `Content-Length` body) so a rule can look at its
//! method and path; it is then forwarded on a fresh upstream connection with
//! `Connection: close` and the answer relayed the same way. One request per client
//! connection keeps the proxy simple; clients reconnect, which costs nothing on loopback.

use anyhow::{Context, Result};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Forward it and relay the answer.
    Pass,
    /// Answer this HTTP status with an S3-style error body, without forwarding.
    Status(u16),
    /// Close the connection without an answer.
    Drop,
    /// Forward it after this delay.
    Delay(Duration),
}

/// The method and path of a request, what rules decide on.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query.
    pub path: String,
}

impl Request {
    /// A PUT of a pack file (`.../data/..`): the upload of backup data.
    pub fn is_pack_upload(&self) -> bool {
        self.method == "PUT" && self.path.contains("/data/")
    }
}

type Rule = Box<dyn FnMut(&Request) -> Action + Send>;

/// The running proxy; stopped on drop.
pub struct Proxy {
    port: u16,
    rule: Arc<Mutex<Rule>>,
    seen: Arc<Mutex<Vec<(Request, Action)>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a pass-through proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind the proxy")?;
        let port = listener.local_addr()?.port();
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Box::new(|_: &Request| Action::Pass)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (rule, seen, stop) = (rule.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (rule, seen) = (rule.clone(), seen.clone());
                    std::thread::spawn(move || {
                        let _ = serve(conn, upstream, &rule, &seen);
                    });
                }
            })
        };
        Ok(Proxy {
            port,
            rule,
            seen,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Replaces the rule deciding each request from now on.
    pub fn set(&self, rule: impl FnMut(&Request) -> Action + Send + 'static) {
        *self.rule.lock().unwrap() = Box::new(rule);
    }

    /// Back to pass-through.
    pub fn pass(&self) {
        self.set(|_| Action::Pass);
    }

    /// How many requests got `action`.
    pub fn count(&self, action: Action) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, a)| *a == action)
            .count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Serves one request of `client`.
fn serve(
    mut client: TcpStream,
    upstream: u16,
    rule: &Mutex<Rule>,
    seen: &Mutex<Vec<(Request, Action)>>,
) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let Some((head, body)) = read_message(&mut client)? else {
        return Ok(());
    };
    let request = parse_request(&head);
    let action = (rule.lock().unwrap())(&request);
    seen.lock().unwrap().push((request, action));
    match action {
        Action::Drop => {
            let _ = client.shutdown(Shutdown::Both);
        }
        Action::Status(code) => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                 <Message>injected by the test proxy</Message></Error>",
                if code == 503 {
                    "SlowDown"
                } else {
                    "InternalError"
                }
            );
            write!(
                client,
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Action::Pass | Action::Delay(_) => {
            if let Action::Delay(d) = action {
                std::thread::sleep(d);
            }
            let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
            up.set_read_timeout(Some(Duration::from_secs(60)))?;
            up.write_all(&with_connection_close(&head))?;
            up.write_all(&body)?;
            let mut answer = Vec::new();
            up.read_to_end(&mut answer)?;
            let split = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
            client.write_all(&with_connection_close(&answer[..split]))?;
            client.write_all(&answer[split..])?;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
    Ok(())
}

/// Reads a request head and its body (`Content-Length` or chunked); `None` on EOF.
fn read_message(s: &mut TcpStream) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = buf[..head_end].to_vec();
    let mut body = buf[head_end..].to_vec();
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let header = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    if let Some(len) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        while find(&body, b"0\r\n\r\n").is_none() {
            let n = s.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(Some((head, body)))
}

fn parse_request(head: &[u8]) -> Request {
    let text = String::from_utf8_lossy(head);
    let mut parts = text.lines().next().unwrap_or_default().split_whitespace();
    Request {
        method: parts.next().unwrap_or_default().to_owned(),
        path: parts.next().unwrap_or_default().to_owned(),
    }
}

/// The head with any `Connection` header replaced by `Connection: close`.
fn with_connection_close(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    // `lines` ends with the two empty strings of the final CRLF CRLF.
    let at = lines.len().saturating_sub(2).max(1);
    lines.insert(at, "Connection: close");
    lines.join("\r\n").into_bytes()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
