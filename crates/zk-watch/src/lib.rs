//! Sessions (timeouts, expiry buckets) and the watch registry; time is always an argument.
