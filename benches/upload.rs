//! Upload benchmark (not a test): starts the standalone platform built with the bench
//! profile, uploads a 200 MiB package with `curl` several times through
//! `upload_patch_package` (MD5 checked), and prints throughput and the platform's peak
//! resident memory before and after.
//!
//! Run: `cargo bench --bench upload`. `BENCH_UPLOAD_MB` (default 200) and
//! `BENCH_ROUNDS` (default 5) change the size and the number of uploads.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

mod support;

fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mb: usize = std::env::var("BENCH_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let platform = support::Platform::start(&[]);
    let (addr, ticket, pid) = (
        platform.addr.clone(),
        platform.ticket.clone(),
        platform.pid(),
    );
    let dir = tempfile::tempdir().expect("temp dir");

    // Varied bytes, written in 1 MiB blocks.
    let package = dir.path().join("bench.tgz");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&package).unwrap());
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mb {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            file.write_all(&block).unwrap();
        }
    }
    let md5 = String::from_utf8(
        Command::new("md5sum")
            .arg(&package)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()[..32]
        .to_string();
    let url = format!("http://{addr}/api/upload_patch_package?ticket={ticket}");
    let baseline = peak_rss_kb(pid);
    println!(
        "platform (bench profile) at {addr}; peak RSS at start {} MiB",
        baseline / 1024
    );
    let mut rates = Vec::new();
    for round in 1..=rounds {
        let started = Instant::now();
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", &url])
            .arg("-F")
            .arg(format!("suse=@{}", package.display()))
            .args(["-F", "application=Bench", "-F", "module_name=Upload"])
            .arg("-F")
            .arg(format!("md5={md5}"))
            .output()
            .expect("curl");
        let seconds = started.elapsed().as_secs_f64();
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(code, "200", "upload failed: {out:?}");
        let rate = mb as f64 / seconds;
        rates.push(rate);
        println!(
            "upload {round}: {mb} MiB in {seconds:.2} s = {rate:.0} MiB/s; peak RSS {} MiB",
            peak_rss_kb(pid) / 1024
        );
    }
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "median {:.0} MiB/s over {rounds} uploads of {mb} MiB; peak RSS grew {} MiB (from {} to {} MiB)",
        rates[rates.len() / 2],
        (peak_rss_kb(pid).saturating_sub(baseline)) / 1024,
        baseline / 1024,
        peak_rss_kb(pid) / 1024
    );
}
