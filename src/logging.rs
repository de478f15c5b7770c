//! Logging set-up for `vipd run`: the log filter (from `--log-level` or `RUST_LOG`) and where
//! logs go (the journal when stderr is connected to it, else stderr).

use std::ffi::OsStr;
use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
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

/// Where logs went.
#[derive(Debug)]
pub enum Output {
    Journal,
    Stderr,
    /// Stderr is the journal, but the journal's native socket could not be used.
    StderrJournalFailed(std::io::Error),
}

/// Installs the global subscriber with `filter` (as [`normalize`] returns it). Logs go to the
/// journal, with priorities, when stderr is connected to it; otherwise, and if the journal
/// socket cannot be opened, to stderr, coloured only when stderr is a terminal.
pub fn init(filter: &str) -> Result<Output, String> {
    let filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("invalid log filter `{filter}`: {e}"))?;
    let (journal, output) = if stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(layer) => (
                Some(FieldsInMessage::new(
                    layer
                        .with_syslog_identifier("vipd".to_owned())
                        .with_priority_mappings(priorities()),
                )),
                Output::Journal,
            ),
            Err(e) => (None, Output::StderrJournalFailed(e)),
        }
    } else {
        (None, Output::Stderr)
    };
    let stderr = journal.is_none().then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(journal)
        .with(stderr)
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}"))?;
    Ok(output)
}

/// Syslog's meaning of the levels, so `journalctl -p info` shows info and above and hides
/// debug (tracing-journald's default puts info at notice and debug at info).
fn priorities() -> tracing_journald::PriorityMappings {
    use tracing_journald::Priority;
    tracing_journald::PriorityMappings {
        error: Priority::Error,
        warn: Priority::Warning,
        info: Priority::Informational,
        debug: Priority::Debug,
        trace: Priority::Debug,
    }
}

/// Wraps a layer (the journald one) so that the `message` it sees carries the event's other
/// fields as ` key=value`, the way the stderr format prints them. tracing-journald puts only
/// the message in `MESSAGE` and each other field in a field of its own (`F_INSTANCE`, ...), so
/// `journalctl -u vipd` would show `state change` where stderr shows
/// `state change instance=web from=backup to=master reason=master_down_timer`. The other
/// fields still reach the journal on their own as well, for `journalctl F_INSTANCE=web`.
pub struct FieldsInMessage<L> {
    inner: L,
}

impl<L> FieldsInMessage<L> {
    pub fn new(inner: L) -> Self {
        FieldsInMessage { inner }
    }
}

/// Collects an event's fields: each as text (by field index), and the stderr-style
/// ` key=value` suffix of the fields other than `message`.
struct Collect {
    values: Vec<Option<String>>,
    suffix: String,
}

impl Collect {
    fn put(&mut self, field: &Field, value: String) {
        if let Some(slot) = self.values.get_mut(field.index()) {
            *slot = Some(value);
        }
    }
}

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() != "message" && !field.name().starts_with("log.") {
            let _ = write!(self.suffix, " {}={:?}", field.name(), value);
        }
        self.put(field, value.to_owned());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() != "message" && !field.name().starts_with("log.") {
            let _ = write!(self.suffix, " {}={text}", field.name());
        }
        self.put(field, text);
    }
}

impl<S, L> Layer<S> for FieldsInMessage<L>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    L: Layer<S>,
{
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let fields = metadata.fields();
        let Some(message) = fields.field("message") else {
            return self.inner.on_event(event, ctx);
        };
        let mut collect = Collect {
            values: vec![None; fields.len()],
            suffix: String::new(),
        };
        event.record(&mut collect);
        if collect.suffix.is_empty() {
            return self.inner.on_event(event, ctx);
        }
        let Some(slot) = collect.values.get_mut(message.index()) else {
            return self.inner.on_event(event, ctx);
        };
        let text = slot.take().unwrap_or_default() + &collect.suffix;
        *slot = Some(text);
        let values: Vec<Option<&dyn tracing::field::Value>> = collect
            .values
            .iter()
            .map(|v| v.as_ref().map(|s| s as &dyn tracing::field::Value))
            .collect();
        // `value_set_all` takes one value per field of the callsite, in order. It is hidden
        // from the docs but is what tracing's own event macros expand to since 0.1.44.
        let values = fields.value_set_all(&values);
        let rewritten = if event.is_contextual() {
            Event::new(metadata, &values)
        } else {
            Event::new_child_of(event.parent().cloned(), metadata, &values)
        };
        self.inner.on_event(&rewritten, ctx);
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

    /// An event's fields as (name, text).
    type Pairs = Vec<(String, String)>;

    /// Records what the wrapped layer sees.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<Pairs>>>);

    struct Fields(Pairs);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.push((field.name().to_owned(), format!("{value:?}")));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_owned(), value.to_owned()));
        }
    }

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            if let Ok(mut seen) = self.0.lock() {
                seen.push(fields.0);
            }
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter()
            .map(|&(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn fields_go_into_the_message_too() {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry().with(FieldsInMessage::new(seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let from = "backup";
            tracing::info!(instance = %"web", %from, n = 3, note = "a b", "state change");
            tracing::warn!("no fields {}", 42);
            tracing::info!(alone = 1);
        });
        let seen = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                pairs(&[
                    (
                        "message",
                        "state change instance=web from=backup n=3 note=\"a b\""
                    ),
                    ("instance", "web"),
                    ("from", "backup"),
                    ("n", "3"),
                    ("note", "a b"),
                ]),
                pairs(&[("message", "no fields 42")]),
                pairs(&[("alone", "1")]),
            ]
        );
    }
}
