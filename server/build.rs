//! Builds the web client into the binary: every file under the workspace's `web/` (but its tests, its
//! node packages and their manifests) becomes an entry of `FILES` in `$OUT_DIR/web_files.rs`, served by
//! `server::web`. No file is read at run time, so the binary alone serves the page.

use std::path::{Path, PathBuf};

/// Folders and files of `web/` that are for development, not for the page.
const LEFT_OUT: [&str; 4] = ["test", "node_modules", "package.json", "package-lock.json"];

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The web client's files: path, content type, bytes.\npub static FILES: &[(&str, &str, &[u8])] = &[\n",
    );
    for (path, file) in files {
        out.push_str(&format!(
            "    ({path:?}, {:?}, include_bytes!({:?})),\n",
            content_type(&path),
            file.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("web_files.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// Every file under `dir`, as (its URL path from `root`, its absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || LEFT_OUT.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let url = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
            let absolute = path.canonicalize().unwrap_or(path);
            files.push((url, absolute));
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}
