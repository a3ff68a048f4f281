//! Load generator for whole servers.
fn main() {}
