//! Downloads through a local HTTP server started by each test: a good file lands, and a
//! bad checksum or a broken connection leaves nothing behind.

use crate::data::download::fetch;
use md5::{Digest, Md5};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// What the server answers for one path: the declared length and the bytes actually sent
/// before it closes the connection.
#[derive(Clone)]
struct Reply {
    path: &'static str,
    declared: usize,
    body: Vec<u8>,
}

/// Serves `replies` (404 for any other path) on 127.0.0.1 and returns the base URL.
fn serve(replies: Vec<Reply>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let _ = match replies.iter().find(|r| path == format!("/{}", r.path)) {
                Some(r) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            r.declared
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&r.body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    base
}

fn payload() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Fetches `f.gz` from a server that declares `declared` bytes and sends `body`, into a
/// fresh folder, checked against `md5`: the folder and the outcome.
fn fetch_served(declared: usize, body: Vec<u8>, md5: &str) -> (tempfile::TempDir, String) {
    let base = serve(vec![Reply {
        path: "f.gz",
        declared,
        body,
    }]);
    let dir = tempfile::tempdir().unwrap();
    let outcome = fetch(&[format!("{base}f.gz")], &dir.path().join("f.gz"), md5);
    (
        dir,
        outcome.map_or_else(|e| format!("{e:#}"), |()| "ok".into()),
    )
}

#[test]
fn good_download_lands_with_its_content() {
    let body = payload();
    let (dir, outcome) = fetch_served(body.len(), body.clone(), &md5_hex(&body));
    assert_eq!(outcome, "ok");
    assert_eq!(std::fs::read(dir.path().join("f.gz")).unwrap(), body);
    assert_eq!(files_in(dir.path()), ["f.gz"], "no temp file left");
}

#[test]
fn wrong_checksum_fails_and_leaves_nothing() {
    let body = payload();
    let (dir, outcome) = fetch_served(body.len(), body, &"0".repeat(32));
    assert!(outcome.contains("checksum mismatch"), "{outcome}");
    assert_eq!(files_in(dir.path()), [""; 0], "left files behind");
}

#[test]
fn server_dying_mid_file_leaves_nothing() {
    let body = payload();
    let half = body[..body.len() / 2].to_vec();
    let (dir, outcome) = fetch_served(body.len(), half, &md5_hex(&body));
    assert!(outcome.contains("could not download f.gz"), "{outcome}");
    assert_eq!(files_in(dir.path()), [""; 0], "left files behind");
}

#[test]
fn failing_mirror_falls_through_to_the_next() {
    let body = payload();
    let broken = serve(vec![]);
    let good = serve(vec![Reply {
        path: "f.gz",
        declared: body.len(),
        body: body.clone(),
    }]);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("f.gz");
    fetch(
        &[format!("{broken}f.gz"), format!("{good}f.gz")],
        &dest,
        &md5_hex(&body),
    )
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}
