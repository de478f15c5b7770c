//! Error collection: [`ConfigError`], the [`Sink`] that gathers them with their positions,
//! the mapping of toml's own errors, and the near-typo search behind "did you mean".

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::schema::allowed_for;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; `None` when the problem has no place (file unreadable, no instance at all).
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted path of the key, `instance[0].vrid`; empty when the whole file is concerned.
    pub key: String,
    pub problem: String,
    pub allowed: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.problem)?;
        if !self.allowed.is_empty() {
            write!(f, "; allowed: {}", self.allowed)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

// ---------------------------------------------------------------------------------------------
// Error collection.

/// More errors than this are counted, not listed: a generated file with thousands of bad
/// entries must not bury the first ones (or take long to report).
pub(super) const MAX_LISTED_ERRORS: usize = 100;

pub(super) struct Sink<'a> {
    text: &'a str,
    file: &'a Path,
    /// Byte offset of the start of each line, so a position costs a binary search rather
    /// than a scan of the file.
    line_starts: Vec<usize>,
    errors: Vec<ConfigError>,
    unlisted: usize,
}

impl<'a> Sink<'a> {
    pub(super) fn new(text: &'a str, file: &'a Path) -> Sink<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Sink {
            text,
            file,
            line_starts,
            errors: Vec::new(),
            unlisted: 0,
        }
    }

    pub(super) fn error_count(&self) -> usize {
        self.errors.len() + self.unlisted
    }

    /// The errors in file order, as an editor shows them (errors without a place first).
    pub(super) fn into_errors(mut self) -> Vec<ConfigError> {
        self.errors
            .sort_by_key(|e| (e.line.unwrap_or(0), e.column.unwrap_or(0)));
        if self.unlisted > 0 {
            self.errors.push(ConfigError {
                file: self.file.to_path_buf(),
                line: None,
                column: None,
                key: String::new(),
                problem: format!(
                    "{} more error(s) not listed (only the first {MAX_LISTED_ERRORS} are)",
                    self.unlisted
                ),
                allowed: "fix the errors above and check again".to_owned(),
            });
        }
        self.errors
    }

    /// 1-based line and column (in characters) of byte `offset`.
    pub(super) fn line_col(&self, offset: usize) -> Option<(usize, usize)> {
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let column = self.text.get(start..offset)?.chars().count() + 1;
        Some((line, column))
    }

    /// Counts an error that would not be listed anyway, sparing the caller its text: a file
    /// with 100 000 unknown keys must not build 100 000 hints.
    pub(super) fn counted_unlisted(&mut self) -> bool {
        let full = self.errors.len() >= MAX_LISTED_ERRORS;
        if full {
            self.unlisted += 1;
        }
        full
    }

    pub(super) fn push(
        &mut self,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        problem: impl Into<String>,
        allowed: &str,
    ) {
        if self.errors.len() >= MAX_LISTED_ERRORS {
            self.unlisted += 1;
            return;
        }
        let place = span.and_then(|s| self.line_col(s.start));
        self.errors.push(ConfigError {
            file: self.file.to_path_buf(),
            line: place.map(|p| p.0),
            column: place.map(|p| p.1),
            key: key.into(),
            problem: problem.into(),
            allowed: allowed.to_owned(),
        });
    }

    /// What `check` makes of `value`; its problem is reported at the value, at key path `key`.
    pub(super) fn verify<T, U>(
        &mut self,
        value: &Spanned<T>,
        key: impl Into<String>,
        allowed: &str,
        check: impl FnOnce(&T) -> Result<U, String>,
    ) -> Option<U> {
        match check(value.get_ref()) {
            Ok(checked) => Some(checked),
            Err(problem) => {
                self.push(Some(value.span()), key, problem, allowed);
                None
            }
        }
    }

    pub(super) fn line_of(&self, span: &Range<usize>) -> usize {
        self.line_col(span.start).map_or(0, |p| p.0)
    }

    /// A syntax error or a type error, as reported by toml/serde, at key path `key`.
    pub(super) fn toml_error(&mut self, e: &toml::de::Error, key: String) {
        let message = e.message().trim_end();
        let (problem, expected) = match message.rsplit_once(", expected ") {
            Some((p, x)) => (p, Some(x)),
            None => (message, None),
        };
        // Unknown keys are removed before serde sees a table (`report_unknown`), so serde's own
        // unknown-field error is only a safety net.
        let (problem, allowed) = if let Some(field) = problem.strip_prefix("unknown field ") {
            (
                format!("unknown key {field}"),
                expected.unwrap_or_default().to_owned(),
            )
        } else if problem.starts_with("invalid type") || problem.starts_with("invalid value") {
            let (plain, element) = strip_indices(&key);
            let allowed = allowed_for(&plain, element)
                .map(str::to_owned)
                .or_else(|| expected.map(str::to_owned))
                .unwrap_or_default();
            (problem.replacen("invalid type", "wrong type", 1), allowed)
        } else if problem == "duplicate key" {
            (
                "this key or table is already defined".to_owned(),
                "each key at most once per table".to_owned(),
            )
        } else {
            let allowed = expected.unwrap_or("valid TOML (https://toml.io)");
            (format!("TOML syntax: {problem}"), allowed.to_owned())
        };
        // toml gives no place for its nesting limit; the culprit is the deepest dotted key.
        let span = e.span().or_else(|| {
            message
                .contains("recursion limit")
                .then(|| deepest_dotted_key(self.text))
                .flatten()
                .map(|at| at..at)
        });
        self.push(span, key, problem, &allowed);
    }
}

/// Byte offset of the line whose key or table header has the most dots outside quotes.
fn deepest_dotted_key(text: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = if trimmed.starts_with('[') {
            trimmed
        } else {
            trimmed.split('=').next().unwrap_or_default()
        };
        let mut quoted = None;
        let mut dots = 0;
        for c in key.chars() {
            match (quoted, c) {
                (None, '"' | '\'') => quoted = Some(c),
                (Some(q), c) if c == q => quoted = None,
                (None, '.') => dots += 1,
                _ => {}
            }
        }
        if dots > best.map_or(0, |b| b.0) {
            best = Some((dots, offset));
        }
        offset += line.len();
    }
    best.map(|(_, at)| at)
}

/// The dotted key of the last key or value starting at or before `offset`: where toml points
/// at an error, that is the key the error belongs to.
pub(super) fn key_at(doc: &DeTable<'_>, offset: usize) -> String {
    let mut best: Option<(usize, String)> = None;
    walk_table(doc, "", offset, &mut best);
    best.map(|(_, key)| key).unwrap_or_default()
}

/// [`key_at`] within one `value` whose key path is `path`: it costs the size of that value, not
/// of the whole file.
pub(super) fn key_in(value: &Spanned<DeValue<'_>>, path: &str, offset: usize) -> String {
    let mut best: Option<(usize, String)> = None;
    consider(&mut best, value.span().start, offset, path);
    walk_value(value, path, offset, &mut best);
    best.map(|(_, key)| key).unwrap_or_else(|| path.to_owned())
}

fn consider(best: &mut Option<(usize, String)>, start: usize, offset: usize, key: &str) {
    if start <= offset && best.as_ref().is_none_or(|(s, _)| start >= *s) {
        *best = Some((start, key.to_owned()));
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    for (k, v) in table.iter() {
        let key = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        consider(best, k.span().start, offset, &key);
        consider(best, v.span().start, offset, &key);
        walk_value(v, &key, offset, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    key: &str,
    offset: usize,
    best: &mut Option<(usize, String)>,
) {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, key, offset, best),
        DeValue::Array(a) => {
            for (i, element) in a.iter().enumerate() {
                let key = format!("{key}[{i}]");
                consider(best, element.span().start, offset, &key);
                walk_value(element, &key, offset, best);
            }
        }
        _ => {}
    }
}

/// `instance[1].virtual_addresses[0]` -> (`instance.virtual_addresses`, true).
fn strip_indices(key: &str) -> (String, bool) {
    let mut plain = String::with_capacity(key.len());
    let mut depth = 0usize;
    for c in key.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    (plain, key.ends_with(']'))
}

/// The known key nearest to `typo`, if close enough. Case, `-` and `_` are ignored, so
/// `routerID`, `control-socket` and `advertinterval` find their key whatever their length.
pub(super) fn closest<'a>(typo: &str, known: &[&'a str]) -> Option<&'a str> {
    let typo = squash(typo);
    known
        .iter()
        .map(|name| (edit_distance(&typo, &squash(name)), *name))
        .filter(|(d, _)| *d <= 2 || (*d <= 3 && typo.len() > 8))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// `Advert-Interval` -> `advertinterval`.
pub(super) fn squash(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}
