//! Logs for machines: with the JSON format every line is one JSON object, and what a connection logs
//! carries its span's client id, peer and room. (Its own test binary: the subscriber is process-wide.)

use arena_e2e::{join, start_server};
use arena_server::config::LogFormat;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Lines written by the subscriber, kept for the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_objects_and_a_connection_s_lines_name_its_client_and_room() -> anyhow::Result<()> {
    let captured = Captured::default();
    let writer = captured.clone();
    let logs = arena_server::logs::subscriber(LogFormat::Json, move || writer.clone(), false);
    tracing::subscriber::set_global_default(logs)?;
    let server = start_server(|_| {}).await?;
    let ann = join(&server, "ann").await?;
    let room = ann.welcome().room.to_string();
    ann.close().await;
    server.shutdown().await;

    let text = String::from_utf8(captured.0.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clone())?;
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("a line is not JSON ({e}):\n{text}"))?;
    let joined = lines
        .iter()
        .find(|l| l["fields"]["message"] == "player joined")
        .ok_or_else(|| anyhow::anyhow!("no 'player joined' line:\n{text}"))?;
    let span = &joined["spans"][0];
    assert_eq!(span["name"], "connection", "{joined}");
    assert_eq!(span["room"], room.as_str(), "{joined}");
    assert!(span["client"].is_u64() && span["peer"].is_string(), "{joined}");
    assert_eq!(joined["level"], "INFO");
    Ok(())
}
