//! Notify commands: the `notify`, `notify_master`, `notify_backup`, `notify_fault` and
//! `notify_stop` keys of an `[[instance]]` or a `[[sync_group]]`, and `notify_timeout` in
//! `[global]`.
//!
//! Each command is an argv checked exactly as a track script's `command` is
//! ([`argv`](super::checks::argv)). keepalived writes them as a string, a shell line: that is
//! refused with the list it would split into, so that moving a keepalived file over is a
//! matter of copying the suggestion.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};
use toml::Spanned;

use super::checks::{DurationRule, argv};
use super::errors::Sink;
use super::schema::Table;
use super::{CHECK_STEP, MAX_NOTIFY_TIMEOUT, NOTIFY_KEYS, Notify};

pub(super) const A_NOTIFY: &str = "a list: the program and its arguments, e.g. \
                                   [\"/usr/local/bin/vip-changed\", \"--site\", \"a\"], run \
                                   without a shell (as script_user, without capabilities); the \
                                   program is an absolute path, or a bare name looked up in \
                                   /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; \
                                   default: none";
pub(super) const A_NOTIFY_TIMEOUT: &str =
    "a duration from \"10ms\" to \"60m\" in steps of 10ms, e.g. \"30s\"; default \"60s\"";

/// How long a notify command may run.
pub(super) const NOTIFY_TIMEOUT: DurationRule = DurationRule {
    min: CHECK_STEP,
    max: MAX_NOTIFY_TIMEOUT,
    step: CHECK_STEP,
    allowed: A_NOTIFY_TIMEOUT,
};

/// A notify key as written: a list, or a string (keepalived's form), which is refused with a
/// hint rather than as a plain wrong type.
pub(super) enum RawArgv {
    Line(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawArgv {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawArgvVisitor)
    }
}

struct RawArgvVisitor;

impl<'de> Visitor<'de> for RawArgvVisitor {
    type Value = RawArgv;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_str<E: serde::de::Error>(self, line: &str) -> Result<RawArgv, E> {
        Ok(RawArgv::Line(line.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawArgv, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(arg) = seq.next_element::<Spanned<String>>()? {
            list.push(arg);
        }
        Ok(RawArgv::List(list))
    }
}

/// The five notify keys of a table, as read.
pub(super) struct RawNotify {
    pub(super) any: Option<Spanned<RawArgv>>,
    pub(super) master: Option<Spanned<RawArgv>>,
    pub(super) backup: Option<Spanned<RawArgv>>,
    pub(super) fault: Option<Spanned<RawArgv>>,
    pub(super) stop: Option<Spanned<RawArgv>>,
}

/// The notify commands of the table `t`; `None` when one is wrong (reported). A key dropped
/// for its type was reported already and simply stays unset here.
pub(super) fn notify(raw: RawNotify, t: &Table, sink: &mut Sink<'_>) -> Option<Notify> {
    let before = sink.error_count();
    let [any, master, backup, fault, stop] = NOTIFY_KEYS;
    let mut one = |raw: Option<Spanned<RawArgv>>, field: &str| {
        raw.and_then(|raw| command(raw, &t.key(field), sink))
    };
    let notify = Notify {
        any: one(raw.any, any),
        master: one(raw.master, master),
        backup: one(raw.backup, backup),
        fault: one(raw.fault, fault),
        stop: one(raw.stop, stop),
    };
    (sink.error_count() == before).then_some(notify)
}

/// One notify command at key path `key`.
fn command(raw: Spanned<RawArgv>, key: &str, sink: &mut Sink<'_>) -> Option<Vec<String>> {
    let span = raw.span();
    match raw.into_inner() {
        RawArgv::List(list) => argv(Spanned::new(span, list), key, A_NOTIFY, sink),
        RawArgv::Line(line) => {
            sink.push(Some(span), key, line_problem(&line), A_NOTIFY);
            None
        }
    }
}

/// What is wrong with a notify command written as a string, with what to write instead.
pub(super) fn line_problem(line: &str) -> String {
    let start = format!(
        "wrong type: string {line:?}; vipd takes an argv list, never a shell line (keepalived's \
         form)"
    );
    match split_line(line) {
        Split::Words(words) if words.is_empty() => {
            format!("{start}, and this one is empty: leave the key out for no command")
        }
        Split::Words(words) => format!("{start}: write {words:?}"),
        Split::Shell(c) => {
            let shell = ["/bin/sh", "-c", line];
            format!(
                "{start}, and this one needs a shell (`{c}`): put it in a script and give the \
                 script's path, or run a shell on purpose: {shell:?}"
            )
        }
        Split::Unclosed(q) => format!(
            "{start}, and its {q} quote is not closed: write the program and each argument as \
             an element of a list, e.g. [\"/usr/local/bin/notify.sh\", \"master\"]"
        ),
    }
}

/// How a shell would split a line into words, as far as quotes and backslashes go.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Split {
    Words(Vec<String>),
    /// The first character that only a shell understands (a pipe, a redirection, a variable,
    /// a glob, a comment...): no list of words means the same.
    Shell(char),
    /// A quote left open.
    Unclosed(char),
}

/// Splits `line` into words as `sh` would: at whitespace outside quotes, with '…' taken as
/// is, "…" with its backslash escapes, and a backslash escaping the next character. Anything
/// else a shell would do something with is [`Split::Shell`].
pub(super) fn split_line(line: &str) -> Split {
    let mut words = Vec::new();
    // `None` between words: "" is an empty word, nothing at all is none.
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Split::Unclosed('\''),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Split::Unclosed('"'),
                        },
                        Some(c @ ('$' | '`')) => return Split::Shell(c),
                        Some(c) => w.push(c),
                        None => return Split::Unclosed('"'),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                w.push(chars.next().unwrap_or('\\'));
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' => {
                return Split::Shell(c);
            }
            '#' | '~' if word.is_none() => return Split::Shell(c),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Split::Words(words)
}
