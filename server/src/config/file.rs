//! The config file (`--config FILE`, TOML): every setting a flag holds, under the flag's name with `_` (or
//! `-`) between words, as a string, a number or a boolean:
//!
//! ```toml
//! bind = "0.0.0.0:4433"
//! tick_rate = 60
//! max_players = 256
//! map = "maps/warehouse.toml"   # relative to the working directory
//! log_format = "json"
//! ```
//!
//! Precedence: a flag, then its environment variable, then the file, then the default. Each value is
//! checked by the flag's own parser; an unknown key, a bad value or a wrong type stops the start with one
//! line naming the file, the line and the key.

use super::Config;
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::PathBuf;

/// Largest config file read, in bytes (a full one is a few kilobytes).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Why the settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A flag or an environment variable is wrong, or settings conflict (clap's message), or help or the
    /// version was asked for.
    #[error(transparent)]
    Flags(#[from] clap::Error),
    /// The config file cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// A key of the config file is unknown or its value bad.
    #[error("{file}:{line}: {message}")]
    File { file: String, line: usize, message: String },
}

/// The settings from `args` (the program's name first), the environment and the `--config` file.
pub fn load<I, T>(args: I) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let command = Config::command();
    let matches = command.clone().try_get_matches_from(&args)?;
    if let Some(path) = matches.get_one::<PathBuf>("config") {
        let text = read(path)?;
        args.extend(from_file(&text, &path.display().to_string(), &command, &matches)?);
        let matches = command.try_get_matches_from(&args)?;
        return Ok(Config::from_arg_matches(&matches)?);
    }
    Ok(Config::from_arg_matches(&matches)?)
}

fn read(path: &PathBuf) -> Result<String, ConfigError> {
    let failed = |source| ConfigError::Read {
        path: path.clone(),
        source,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(failed)?
        .take(MAX_CONFIG_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(failed)?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        let too_large = std::io::Error::other(format!("over {MAX_CONFIG_FILE_BYTES} bytes"));
        return Err(failed(too_large));
    }
    Ok(text)
}

/// The file's settings as flags (`--tick-rate=30`), each checked by its flag's parser, leaving out those a
/// flag or an environment variable already sets.
fn from_file(
    text: &str,
    file: &str,
    command: &clap::Command,
    matches: &clap::ArgMatches,
) -> Result<Vec<OsString>, ConfigError> {
    let error = |line: usize, message: String| ConfigError::File {
        file: file.to_string(),
        line,
        message,
    };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(text, span.start));
        error(line, format!("TOML syntax error: {}", e.message().trim()))
    })?;
    let table = doc.as_table();
    let mut flags = Vec::new();
    for (key, item) in table.iter() {
        let span = table.key(key).and_then(toml_edit::Key::span).or_else(|| item.span());
        let line = span.map_or(1, |span| line_of(text, span.start));
        let id = key.replace('-', "_");
        let arg = command
            .get_arguments()
            .find(|a| a.get_id() == id.as_str() && a.get_long().is_some() && id != "config");
        let (Some(arg), Some(long)) = (arg, arg.and_then(clap::Arg::get_long)) else {
            let message = format!("unknown key \"{key}\" (a key is a flag's name with _ for -, as in tick_rate)");
            return Err(error(line, message));
        };
        let Some(value) = item.as_value() else {
            return Err(error(line, format!("{key}: expected a string, a number or a boolean")));
        };
        if matches!(
            matches.value_source(&id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            match value.as_bool() {
                Some(true) => flags.push(OsString::from(format!("--{long}"))),
                Some(false) => {}
                None => return Err(error(line, format!("{key}: expected true or false"))),
            }
            continue;
        }
        let text = match value {
            toml_edit::Value::String(s) => s.value().clone(),
            toml_edit::Value::Integer(i) => i.value().to_string(),
            toml_edit::Value::Float(f) => f.value().to_string(),
            toml_edit::Value::Boolean(b) => b.value().to_string(),
            _ => return Err(error(line, format!("{key}: expected a string, a number or a boolean"))),
        };
        let flag = OsString::from(format!("--{long}={text}"));
        if let Err(e) = check(arg, &flag) {
            return Err(error(line, format!("{key}: {}", first_line(&e))));
        }
        flags.push(flag);
    }
    Ok(flags)
}

/// Runs `flag` through `arg`'s own parser: a command of that one argument, without its ties to others
/// (those are checked when everything is parsed together) or its environment variable.
fn check(arg: &clap::Arg, flag: &OsStr) -> Result<clap::ArgMatches, clap::Error> {
    let reset = || clap::builder::Resettable::<clap::Id>::Reset;
    let lone = arg.clone().requires(reset()).conflicts_with(reset()).env(None::<&str>);
    clap::Command::new("arena-server")
        .arg(lone)
        .try_get_matches_from([OsStr::new("arena-server"), flag])
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The first line of clap's message, without its `error: ` prefix.
fn first_line(e: &clap::Error) -> String {
    let message = e.to_string();
    let line = message.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests;
