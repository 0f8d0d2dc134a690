//! A lossy UDP relay (link conditioner). Being written.
