// SPDX-License-Identifier: GPL-2.0

//! The control socket: one line command per connection, answered with the
//! output of [`crate::engine::Host::control`]; and the `ctl` client.
//!
//! The commands and their output formats are listed in
//! [`crate::config::USAGE`] (`dxg-host --help`). Outputs are one
//! `KEY VALUE` (or `NAME sync=N async=M`) item per line, for `grep` and
//! `sed -n 's/^KEY //p'`, and end with an `ok` line.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::time::Duration;

use crate::engine::Host;

/// Serves `path` until the host quits (runs on its own thread).
pub fn serve(host: Arc<Host>, path: &str) -> std::io::Result<std::thread::JoinHandle<()>> {
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path)?;
    l.set_nonblocking(true)?;
    let path = path.to_string();
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            while !host.quitting() {
                match l.accept() {
                    Ok((s, _)) => {
                        if let Err(e) = one(&host, s) {
                            eprintln!("dxg-host: control: {e}");
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    Err(e) => {
                        eprintln!("dxg-host: control accept: {e}");
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
            }
            let _ = std::fs::remove_file(&path);
        })
}

fn one(host: &Host, s: UnixStream) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line)?;
    let out = host.control(line.trim());
    eprintln!(
        "dxg-host: ctl {:?}: {}",
        line.trim(),
        out.lines().last().unwrap_or("")
    );
    (&s).write_all(out.as_bytes())
}

/// Client: sends `cmd`, prints the answer; returns the exit code (0 when
/// the answer ends with "ok").
pub fn client(path: &str, cmd: &str) -> i32 {
    let mut s = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dxg-host ctl: {path}: {e}");
            return 2;
        }
    };
    if let Err(e) = s.write_all(format!("{cmd}\n").as_bytes()) {
        eprintln!("dxg-host ctl: {e}");
        return 2;
    }
    let mut out = String::new();
    if let Err(e) = s.read_to_string(&mut out) {
        eprintln!("dxg-host ctl: {e}");
        return 2;
    }
    print!("{out}");
    if out.lines().last() == Some("ok") {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::transport::MemTransport;

    #[test]
    fn socket_round_trip() {
        let path = std::env::temp_dir().join(format!("dxg-host-test-{}.sock", std::process::id()));
        let path = path.to_string_lossy().into_owned();
        let cfg = Config {
            control: path.clone(),
            ..Default::default()
        };
        let host = Arc::new(Host::new(cfg, MemTransport::new()));
        let t = serve(host.clone(), &path).unwrap();
        assert_eq!(client(&path, "offer vm"), 0);
        assert_eq!(client(&path, "offer vm"), 1);
        assert_eq!(client(&path, "stats"), 0);
        assert_eq!(client(&path, "stats reset"), 0);
        assert_eq!(client(&path, "hold"), 0);
        assert!(host.control("status").contains("\nheld 1\n"));
        assert_eq!(client(&path, "release"), 0);
        assert_eq!(client(&path, "stall-next 2"), 0);
        assert_eq!(client(&path, "stall clear"), 0);
        assert_eq!(client(&path, "stall-next x"), 1);
        assert_eq!(client(&path, "quit"), 0);
        t.join().unwrap();
        assert!(host.quitting());
        assert_eq!(client(&path, "stats"), 2);
    }
}
