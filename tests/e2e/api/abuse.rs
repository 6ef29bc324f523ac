//! The abuse suite (issue 9): what one client on one laptop could do to the daemon before,
//! tried again over loopback, each bounded in time. Before the fixes: 5,000 half-header
//! sockets were held forever; 300 never-finished unauthenticated 1 MiB bodies grew the
//! daemon by ~250 MB for good; with the fd limit reached, `accept` spun at 86% CPU writing
//! 691k log lines in 6 s. (A client that writes a whole oversized body before reading gets
//! its 413: `limits::a_client_that_writes_its_whole_body_first_still_reads_the_refusal`.)
//! These run on SQLite only: they load sockets and the process, not the database.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use roster_e2e::daemon::{Backend, Daemon, Launch};

use super::closed_within;

/// Resident memory of a process, in bytes (`VmRSS` from /proc).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// CPU time a process has used (user + system), in seconds (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // Fields after the command name (which may hold spaces) start at `state`, field 3;
    // utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

/// Raises this test process's own open-files soft limit to its hard limit; returns it.
fn raise_own_open_files() -> u64 {
    let me = std::process::id().to_string();
    let shown = Command::new("prlimit").args(["--pid", &me, "--nofile", "--raw", "--noheadings"]).output();
    let text = String::from_utf8_lossy(&shown.expect("prlimit").stdout).to_string();
    let hard: u64 = text.split_whitespace().nth(3).and_then(|h| h.parse().ok()).expect("hard limit");
    let set = Command::new("prlimit").args(["--pid", &me, &format!("--nofile={hard}:{hard}")]).status();
    assert!(set.expect("prlimit").success());
    hard
}

/// `/readyz` on a fresh connection: its status and how long it took.
fn readyz(address: &str) -> (u16, Duration) {
    let started = Instant::now();
    let r = roster_e2e::http::send(address, "GET", "/readyz", &[], b"");
    (r.status, started.elapsed())
}

#[test]
fn abuse_hundreds_of_half_headers_are_all_closed_after_the_header_timeout() {
    let d = Daemon::start_with(&Backend::Sqlite, "header_read_timeout_s = 1");
    let mut sockets: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(&d.address).expect("connect");
            s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("write");
            s
        })
        .collect();
    let (status, _) = readyz(&d.address);
    assert_eq!(status, 200, "served meanwhile");
    for (i, socket) in sockets.iter_mut().enumerate() {
        assert!(closed_within(socket, Duration::from_secs(20)).is_some(), "socket {i} is still held");
    }
}

#[test]
fn abuse_2000_idle_connections_do_not_keep_readyz_waiting() {
    assert!(raise_own_open_files() >= 2200, "the test needs 2,200 open files");
    // Defaults: the connection limit follows the open-files limit (20,000 here), so idle
    // sockets take slots without starving anyone; with the old default of 1,024 the
    // 1,025th connection waited in the backlog until the header timeout freed a slot.
    let d = Daemon::start(&Backend::Sqlite);
    let before = rss_bytes(d.pid());
    let idle: Vec<TcpStream> = (0..2000).map(|_| TcpStream::connect(&d.address).expect("connect")).collect();
    // Let the daemon accept them all.
    std::thread::sleep(Duration::from_millis(500));
    let (status, took) = readyz(&d.address);
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "/readyz took {took:?} behind 2,000 idle connections");
    let grown = rss_bytes(d.pid()).saturating_sub(before);
    eprintln!("2,000 idle connections: /readyz in {took:?}; RSS grew {} KiB", grown / 1024);
    drop(idle);
}

#[test]
fn abuse_unauthenticated_partial_bodies_do_not_grow_memory() {
    let d = Daemon::start(&Backend::Sqlite);
    let pid = d.pid();
    let before = rss_bytes(pid);
    let chunk = vec![b'x'; 64 << 10];
    // 300 requests declaring 1 MiB bodies, without a token, sending all but the last byte
    // and never finishing: the old daemon buffered every one of them (~300 MiB).
    let mut sockets = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(&d.address).expect("connect");
        s.write_all(b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
            .expect("head");
        sockets.push(s);
    }
    for s in &mut sockets {
        for _ in 0..15 {
            s.write_all(&chunk).expect("body");
        }
        s.write_all(&chunk[..(64 << 10) - 1]).expect("body");
    }
    let mut answered = 0;
    for s in &mut sockets {
        s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut head = [0u8; 12];
        if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 401") {
            answered += 1;
        }
    }
    assert_eq!(answered, 300, "each is refused (401) from its headers");
    std::thread::sleep(Duration::from_millis(500));
    let grown = rss_bytes(pid).saturating_sub(before);
    eprintln!("300 unauthenticated 1 MiB bodies: RSS grew {} KiB", grown / 1024);
    // Nothing is kept: what grows is per-connection state, read buffers (16 KiB each) and
    // allocator slack, measured at ~10 MiB for the 300 MiB sent (the old daemon kept
    // ~250 MB; hyper's default 400 KiB read buffers alone cost 166 MiB here).
    assert!(grown < 24 << 20, "RSS grew by {} MiB", grown >> 20);
}

#[test]
fn abuse_running_out_of_file_descriptors_backs_off_and_recovers() {
    // A limit the daemon cannot raise, and a connection limit above it, so `accept`
    // itself runs out of descriptors.
    let how = Launch { open_files: Some(128), capture_log: true, ..Launch::default() };
    let d = Daemon::start_launched(&Backend::Sqlite, "max_connections = 1000\nheader_read_timeout_s = 60", how);
    let pid = d.pid();
    let held: Vec<TcpStream> =
        (0..200).map(|_| TcpStream::connect(&d.address).expect("the backlog takes it")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (cpu_before, started) = (cpu_seconds(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let cpu = cpu_seconds(pid) - cpu_before;
    let wall = started.elapsed().as_secs_f64();
    let warnings = d.log().lines().filter(|line| line.contains("accept failed")).count();
    eprintln!("fd exhaustion: {cpu:.2} s of CPU in {wall:.1} s; {warnings} accept warnings");
    assert!(warnings >= 1, "accept did run out of descriptors: {}", d.log());
    // The old loop spun at 86% of a core; backing off, the daemon is nearly idle.
    assert!(cpu < 0.3 * wall, "{cpu:.2} s of CPU in {wall:.1} s");
    assert!(warnings <= 6, "at most one warning a second: {warnings}");
    drop(held);
    let recovered = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        readyz(&d.address).0 == 200
    });
    assert!(recovered, "serves again once the connections are gone");
}
