//! The ensemble described by zoo.cfg: `server.N` lines, `myid`, quorum, election algorithm.
