//! `vipd import-keepalived`: the VRRP side of a keepalived configuration turned into a vipd
//! configuration.
//!
//! Pure code apart from reading the files, which goes through [`Files`] so that the tests and
//! the fuzz target give it files from memory. Four steps, one module each:
//! 1. `reader`: keepalived's lexical layer, as keepalived 2.2 reads a file: comments,
//!    `include` with globs, `@id` conditional lines, `$NAME=value` definitions and their
//!    substitution, quoted words and braces, into statements that know their file and line;
//! 2. `tree`: the statements nested into blocks (unbalanced braces are an error);
//! 3. `convert`: keepalived's keywords mapped onto vipd's tables, and everything that cannot
//!    be carried over noted where it was found;
//! 4. `emit`: the TOML text, each section with a comment naming the keepalived file and line
//!    it came from, and a `# not carried:` comment for each thing left behind.
//!
//! The text is then loaded with vipd's own loader ([`crate::config::parse`]): the importer
//! hands back a file only when `vipd check` would accept it.
//!
//! Where keepalived's documented and actual behaviour differ, the importer follows what
//! keepalived 2.2.7 does (checked by running it with `-d`): commands are split into words and
//! run without a shell; unquoted words after a `vrrp_script`'s `script` are ignored; the
//! words after a notify command name the user to run it as; a sync group's members ignore
//! a weighted `track_script` and run a weighted `track_interface` or `track_file` with weight
//! 0, unless the group says `sync_group_tracking_weight`.

mod convert;
mod emit;
mod files;
mod reader;
#[cfg(test)]
mod tests;
mod tree;
mod words;

use std::fmt;
use std::path::{Path, PathBuf};

pub use files::{Files, Kind, MemFiles, RealFiles};

use crate::config::{self, Config};

/// How much the importer reads before it gives up: generous for real configurations, small
/// enough that hostile input ends quickly.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of one file.
    pub file_bytes: u64,
    /// Bytes of all files together.
    pub total_bytes: u64,
    /// Files read (the first one and every include).
    pub files: usize,
    /// Includes within includes.
    pub include_depth: usize,
    /// Bytes of one line, before and after substitution.
    pub line_bytes: usize,
    /// Substitutions (and condition checks) on one line.
    pub substitutions: usize,
    /// Bytes that substitution rewrites, in all: the work it may do.
    pub substitution_bytes: u64,
    /// Bytes of all lines after substitution, in all: what includes and definitions may
    /// make of the files.
    pub text_bytes: u64,
    /// Lines that multi-line definitions make, in all.
    pub expanded_lines: usize,
    /// Statements after includes and definitions.
    pub statements: usize,
    /// Blocks within blocks.
    pub block_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            file_bytes: 8 << 20,
            total_bytes: 32 << 20,
            files: 1024,
            include_depth: 16,
            line_bytes: 64 << 10,
            substitutions: 1_000,
            substitution_bytes: 256 << 20,
            text_bytes: 64 << 20,
            expanded_lines: 1_000_000,
            statements: 1_000_000,
            block_depth: 32,
        }
    }
}

/// What the import needs besides the file.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// keepalived's config id (its `-i`), which `@id` lines are compared with. keepalived's
    /// default is the host name up to its first dot; `None`: no `@id` line applies, every
    /// `@^id` line does.
    pub config_id: Option<String>,
    pub limits: Limits,
    /// The name the produced file is checked under, for its error messages; default
    /// `imported.toml`.
    pub output_name: Option<PathBuf>,
}

/// A place in the keepalived files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// Left behind: vipd has no such thing, or this value cannot be expressed.
    NotCarried,
    /// Carried, but something about it deserves a look (a value rounded, a default that
    /// differs, keepalived's own behaviour kept).
    Note,
}

/// Something the operator should know about the import, with where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub place: Option<Place>,
    pub kind: NoteKind,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        let kind = match self.kind {
            NoteKind::NotCarried => "not carried",
            NoteKind::Note => "note",
        };
        write!(f, "{kind}: {}", self.text)
    }
}

/// Why no file was produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub place: Option<Place>,
    pub text: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        f.write_str(&self.text)
    }
}

/// A successful import.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The vipd configuration, with comments.
    pub toml: String,
    /// The same, as vipd loads it.
    pub config: Config,
    /// Everything not carried over and everything worth a look, in file order.
    pub notes: Vec<Note>,
    /// The files read, the first one first.
    pub sources: Vec<PathBuf>,
}

/// A failed import: the problems (at least one), and the notes gathered before.
#[derive(Clone, Debug)]
pub struct Failed {
    pub problems: Vec<Problem>,
    pub notes: Vec<Note>,
}

/// Where something was found: an index into the files read, and a 1-based line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Origin {
    pub(crate) file: u32,
    pub(crate) line: u32,
}

/// A note before its place is resolved.
#[derive(Clone, Debug)]
pub(crate) struct RawNote {
    pub(crate) origin: Option<Origin>,
    pub(crate) kind: NoteKind,
    pub(crate) text: String,
}

/// Imports the keepalived configuration at `path` (and what it includes).
pub fn import(path: &Path, files: &dyn Files, options: &Options) -> Result<Imported, Failed> {
    let limits = &options.limits;
    let config_id = options.config_id.as_deref();
    let (read, fatal) = match reader::read(files, path, config_id, limits) {
        Ok(read) => (read, None),
        Err((fatal, read)) => (read, Some(fatal)),
    };
    let sources = read.sources;
    let place = |origin: Option<Origin>| {
        let o = origin?;
        Some(Place {
            file: sources.get(o.file as usize)?.clone(),
            line: o.line as usize,
        })
    };
    let resolve = |notes: Vec<RawNote>| -> Vec<Note> {
        let mut notes: Vec<Note> = notes
            .into_iter()
            .map(|n| Note {
                place: place(n.origin),
                kind: n.kind,
                text: n.text,
            })
            .collect();
        notes.dedup();
        notes
    };
    let fail = |(origin, text): reader::Fatal, notes: Vec<RawNote>| Failed {
        problems: vec![Problem {
            place: place(origin),
            text,
        }],
        notes: resolve(notes),
    };
    if let Some(fatal) = fatal {
        return Err(fail(fatal, read.notes));
    }
    let nodes = match tree::build(read.items, limits) {
        Ok(nodes) => nodes,
        Err(fatal) => return Err(fail(fatal, read.notes)),
    };
    let mut doc = convert::convert(&nodes);
    // What reading noticed (includes skipped, ~SEQ lines) belongs to no section.
    doc.top.extend(read.notes);
    let mut raw_notes = doc.all_notes();
    raw_notes.sort_by_key(|n| n.origin);
    let notes = resolve(raw_notes);
    let header = emit::Header {
        source: path,
        config_id,
        sources: &sources,
        not_carried: notes
            .iter()
            .filter(|n| n.kind == NoteKind::NotCarried)
            .count(),
        notes: notes.iter().filter(|n| n.kind == NoteKind::Note).count(),
    };
    if doc.instances.is_empty() {
        return Err(Failed {
            problems: vec![Problem {
                place: None,
                text: format!(
                    "no vrrp_instance could be carried over from {}: there is nothing for vipd \
                     to run",
                    path.display()
                ),
            }],
            notes,
        });
    }
    let toml = emit::emit(&doc, &header, &|o| place(Some(o)));
    let name = (options.output_name.clone()).unwrap_or_else(|| PathBuf::from("imported.toml"));
    match config::parse(&toml, &name) {
        Ok(config) => Ok(Imported {
            toml,
            config,
            notes,
            sources,
        }),
        Err(errors) => Err(Failed {
            problems: errors
                .iter()
                .map(|e| Problem {
                    place: None,
                    text: format!(
                        "the importer produced a file vipd does not accept (an importer bug; \
                         please report it with the keepalived file): {e}"
                    ),
                })
                .collect(),
            notes,
        }),
    }
}
