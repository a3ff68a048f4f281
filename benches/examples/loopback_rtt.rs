//! The machine's own loopback round trip: two blocking threads bounce a 120-byte message over
//! one TCP connection on 127.0.0.1 (TCP_NODELAY), the shape of a closed-loop `zk-bench` session
//! with one request in flight, without any server or runtime in between. It is the floor under
//! every x1 row of `cargo xtask bench`. Prints percentiles; asserts nothing.
//!
//! `cargo run --release -p zk-bench --example loopback_rtt -- [ROUND_TRIPS]`

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

const MESSAGE_BYTES: usize = 120;

fn main() -> std::io::Result<()> {
    let round_trips: usize = match std::env::args().nth(1) {
        Some(text) => match text.parse() {
            Ok(count) if count > 0 => count,
            _ => {
                eprintln!("usage: loopback_rtt [ROUND_TRIPS] (a positive count, default 20000)");
                std::process::exit(2);
            }
        },
        None => 20_000,
    };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        let mut buffer = [0u8; MESSAGE_BYTES];
        loop {
            match stream.read_exact(&mut buffer) {
                Ok(()) => stream.write_all(&buffer)?,
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    });
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut message = [7u8; MESSAGE_BYTES];
    let mut micros = Vec::with_capacity(round_trips);
    for _ in 0..round_trips {
        let sent = Instant::now();
        stream.write_all(&message)?;
        stream.read_exact(&mut message)?;
        micros.push(sent.elapsed().as_secs_f64() * 1e6);
    }
    drop(stream);
    echo.join().expect("the echo thread panicked")?;
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    println!(
        "loopback TCP round trip, {MESSAGE_BYTES} bytes, {round_trips} times: \
         p10 {:.1} µs, p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs",
        at(0.10),
        at(0.50),
        at(0.90),
        at(0.99)
    );
    Ok(())
}
