//! Configuration files over HTTP (written by a helper).
