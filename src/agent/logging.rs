//! Logging set-up for `vipd run`: the log filter (from `--log-level` or `RUST_LOG`) and where
//! logs go (stderr, with syslog priority prefixes when stderr is the journal).

use std::ffi::OsStr;
use std::fmt;
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The filter used when neither `--log-level` nor `RUST_LOG` gives one.
pub const DEFAULT_FILTER: &str = "info";

/// What a log filter may be, for error messages.
pub const ALLOWED: &str = "error, warn (or warning), info, debug, trace or off, in any case, \
     or tracing directives of the form [TARGET=]LEVEL separated by commas, e.g. vipd=debug,info";

/// The level words we accept, and the tracing level each one means.
const LEVELS: [(&str, &str); 7] = [
    ("error", "error"),
    ("warn", "warn"),
    ("warning", "warn"),
    ("info", "info"),
    ("debug", "debug"),
    ("trace", "trace"),
    ("off", "off"),
];

fn level(word: &str) -> Option<&'static str> {
    LEVELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map(|&(_, level)| level)
}

/// Why a log filter was refused: a sentence that names the bad part and says what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError(String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; allowed: {ALLOWED}", self.0)
    }
}

impl std::error::Error for FilterError {}

/// Checks a log filter and returns it in the form tracing reads: level words lower-cased,
/// `warning` spelled `warn`, whitespace around directives removed.
///
/// `EnvFilter` itself takes any bare word as a target name, so `warning` or a typo would turn
/// every log line off without a word. Here a directive without `=` must be a level, and the
/// part after a directive's `=` must be a level too. Directives whose only `=` is inside a span
/// field filter (`[{instance=web}]`) are left to tracing's own parser, which checks them all.
pub fn normalize(spec: &str) -> Result<String, FilterError> {
    let mut out = Vec::new();
    for directive in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        out.push(normalize_directive(directive)?);
    }
    if out.is_empty() {
        return Err(FilterError("the log filter is empty".to_owned()));
    }
    let normalized = out.join(",");
    EnvFilter::builder()
        .parse(&normalized)
        .map_err(|e| FilterError(format!("`{spec}` is not a valid filter: {e}")))?;
    Ok(normalized)
}

fn normalize_directive(directive: &str) -> Result<String, FilterError> {
    match split_level(directive) {
        Some((target, word)) => {
            let target = target.trim();
            let word = word.trim();
            if target.is_empty() {
                return Err(FilterError(format!(
                    "`{directive}` has no target before `=`"
                )));
            }
            match level(word) {
                Some(level) => Ok(format!("{target}={level}")),
                None => Err(FilterError(format!(
                    "`{word}` in `{directive}` is not a log level"
                ))),
            }
        }
        None => match level(directive) {
            Some(level) => Ok(level.to_owned()),
            None if directive.contains('=') => Ok(directive.to_owned()),
            None => Err(FilterError(format!("`{directive}` is not a log level"))),
        },
    }
}

/// Splits `target=level` at its last `=` outside `[...]` (span field filters hold `=` too).
fn split_level(directive: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    let mut at = None;
    for (i, c) in directive.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '=' if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    at.map(|i| (&directive[..i], &directive[i + 1..]))
}

/// The filter to use when `--log-level` is absent, from `RUST_LOG`'s value: the default when it
/// is unset or blank, else `RUST_LOG` checked like `--log-level`.
pub fn from_env_value(value: Option<&OsStr>) -> Result<String, FilterError> {
    let Some(value) = value else {
        return Ok(DEFAULT_FILTER.to_owned());
    };
    let Some(value) = value.to_str() else {
        return Err(FilterError(format!(
            "{} is not valid UTF-8",
            value.to_string_lossy()
        )));
    };
    if value.trim().is_empty() {
        return Ok(DEFAULT_FILTER.to_owned());
    }
    normalize(value)
}

/// Whether `JOURNAL_STREAM` (`DEVICE:INODE` in decimal, which systemd sets when it connects
/// stdout or stderr to the journal) names the file whose device and inode are given.
pub fn journal_stream_names(value: Option<&OsStr>, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value
        .and_then(OsStr::to_str)
        .and_then(|v| v.split_once(':'))
    else {
        return false;
    };
    d.parse::<u64>() == Ok(dev) && i.parse::<u64>() == Ok(ino)
}

/// Whether stderr is connected to the journal: `JOURNAL_STREAM` names stderr's file, as
/// sd-daemon(3) says to check (a child that inherited the variable but whose stderr was
/// redirected is not logging to the journal).
pub fn stderr_is_journal() -> bool {
    let value = std::env::var_os("JOURNAL_STREAM");
    if value.is_none() {
        return false;
    }
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(fd).metadata() else {
        return false;
    };
    journal_stream_names(value.as_deref(), meta.dev(), meta.ino())
}

/// Installs the global subscriber with `filter` (as [`normalize`] returns it). Logs go to
/// stderr. When stderr is the journal, each line starts with its syslog priority (`<3>`
/// error, `<4>` warn, `<6>` info, `<7>` debug and trace; sd-daemon(3)), which journald turns
/// into the entry's priority, and carries no timestamp (the journal adds its own); the
/// `key=value` fields stay in the message, so `journalctl -u vipd` reads like the terminal.
/// Elsewhere the usual format, coloured only on a terminal.
pub fn init(filter: &str) -> Result<(), String> {
    let filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("invalid log filter `{filter}`: {e}"))?;
    let journal = stderr_is_journal();
    let to_journal = journal.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .event_format(PriorityPrefix(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_target(false),
            ))
    });
    let to_terminal = (!journal).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(to_journal)
        .with(to_terminal)
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}"))
}

/// The syslog priority journald reads from a `<N>` line prefix.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// An event format that puts the event's syslog priority in front of what `F` writes.
struct PriorityPrefix<F>(F);

impl<S, N, F> FormatEvent<S, N> for PriorityPrefix<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn level_words_in_any_case() {
        for (input, want) in [
            ("error", "error"),
            ("warn", "warn"),
            ("warning", "warn"),
            ("WARNING", "warn"),
            ("Info", "info"),
            ("DEBUG", "debug"),
            ("trace", "trace"),
            ("off", "off"),
            (" info ", "info"),
        ] {
            assert_eq!(normalize(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn directives() {
        for (input, want) in [
            ("vipd=debug,info", "vipd=debug,info"),
            ("vipd=warning", "vipd=warn"),
            ("vipd::agent=TRACE, warn", "vipd::agent=trace,warn"),
            ("info,", "info"),
            ("vipd[{instance=web}]=debug", "vipd[{instance=web}]=debug"),
        ] {
            assert_eq!(normalize(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn refused() {
        for (input, says) in [
            ("bogus", "`bogus` is not a log level"),
            ("warnings", "`warnings` is not a log level"),
            ("vipd", "`vipd` is not a log level"),
            ("vipd=loud", "`loud` in `vipd=loud` is not a log level"),
            ("info,vipd=", "`` in `vipd=` is not a log level"),
            ("=debug", "no target"),
            ("", "empty"),
            (" , ", "empty"),
        ] {
            let err = normalize(input).expect_err(input).to_string();
            assert!(err.contains(says), "{input}: {err}");
            assert!(
                err.contains("allowed: error, warn (or warning), info"),
                "{err}"
            );
        }
    }

    #[test]
    fn rust_log() {
        assert_eq!(from_env_value(None).as_deref(), Ok("info"));
        assert_eq!(
            from_env_value(Some(OsStr::new("  "))).as_deref(),
            Ok("info")
        );
        assert_eq!(
            from_env_value(Some(OsStr::new("Warning"))).as_deref(),
            Ok("warn")
        );
        assert!(from_env_value(Some(OsStr::new("bogus"))).is_err());
        use std::os::unix::ffi::OsStrExt;
        assert!(from_env_value(Some(OsStr::from_bytes(b"in\xfffo"))).is_err());
    }

    #[test]
    fn journal_stream() {
        let v = |s: &str| Some(OsStr::new(s).to_owned());
        assert!(journal_stream_names(v("8:12345").as_deref(), 8, 12345));
        assert!(!journal_stream_names(v("8:12345").as_deref(), 8, 12346));
        assert!(!journal_stream_names(v("9:12345").as_deref(), 8, 12345));
        assert!(!journal_stream_names(v("8").as_deref(), 8, 12345));
        assert!(!journal_stream_names(v("").as_deref(), 0, 0));
        assert!(!journal_stream_names(v("x:y").as_deref(), 0, 0));
        assert!(!journal_stream_names(None, 8, 12345));
    }

    #[test]
    fn journal_lines_carry_their_priority_and_fields() {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
                if let Ok(mut b) = self.0.lock() {
                    b.extend_from_slice(data);
                }
                Ok(data.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .event_format(PriorityPrefix(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_target(false),
            ));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(instance = %"web", from = "backup", "state change");
            tracing::error!("gone");
            tracing::debug!("detail");
        });
        let text = buffer
            .0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("<6>"), "{text}");
        assert!(
            lines[0].contains("state change instance=web from=\"backup\""),
            "{text}"
        );
        assert!(
            lines[1].starts_with("<3>") && lines[1].contains("gone"),
            "{text}"
        );
        assert!(lines[2].starts_with("<7>"), "{text}");
    }
}
