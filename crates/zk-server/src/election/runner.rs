//! One election round at a time over the configured algorithm and its transport.
