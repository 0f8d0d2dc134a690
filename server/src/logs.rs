//! The server's logs: human text, or one JSON object per line for machines (tracing's JSON format, with the
//! fields of every span an event is in: a connection's client, peer and room, an overrun tick's room and
//! times). The filter comes from `ARENA_LOG` (default `info,quinn=warn`).

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The subscriber for `format`, writing to `writer` (stderr for the binary; a buffer in tests).
pub fn subscriber<W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_env("ARENA_LOG").unwrap_or_else(|_| "info,quinn=warn".into());
    let logs = tracing_subscriber::fmt().with_writer(writer).with_env_filter(filter);
    match format {
        LogFormat::Text => Box::new(logs.with_ansi(ansi).finish()),
        LogFormat::Json => Box::new(logs.json().with_span_list(true).finish()),
    }
}
