//! Writes the wire test vectors (`vectors/*.json` at the workspace root) from the Rust codec, the server's
//! replication and the client library: `cargo run -p arena-client --example make_vectors`. The test
//! `client/tests/vectors.rs` makes them again in memory and fails when a file differs.

#[path = "../tests/vectors/generate/mod.rs"]
mod generate;

use std::path::Path;

fn main() -> std::io::Result<()> {
    // The workspace root is the client crate's parent.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(".."));
    let dir = root.join("vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, text) in generate::files() {
        let path = dir.join(name);
        std::fs::write(&path, &text)?;
        println!("wrote {} ({} bytes)", path.display(), text.len());
    }
    Ok(())
}
