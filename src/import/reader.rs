//! Reading keepalived files into statements, as keepalived 2.2's `read_line()` does: each
//! line loses its comment, then `@id` and `@^id` lines are kept or dropped for the config
//! id, `$NAME=value` lines define (multi-line when they end with `\`), `$NAME` and `${NAME}`
//! are replaced (again and again, so a value may use another definition), `include` lines
//! read more files (a glob, relative to the including file's directory), and braces become
//! lines of their own.
//!
//! Everything is bounded: file sizes, the number of files, include depth, line length, the
//! substitutions per line and the lines multi-line definitions make. An include loop is an
//! error, as is anything that cannot be read as text, each with the file and line.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use super::files::{Files, Kind, glob};
use super::words::{Piece, decomment, line_words, printable, split_braces};
use super::{Limits, NoteKind, Origin, RawNote};

/// One statement (the words of a line, between braces), or a brace.
#[derive(Clone, Debug)]
pub(super) enum Item {
    Words {
        words: Vec<String>,
        /// The statement's text after substitution, for the keywords keepalived reads again
        /// with quotes and escapes (scripts, notify commands).
        text: String,
        origin: Origin,
    },
    Open(Origin),
    Close(Origin),
}

/// A fatal problem: where, and what.
pub(super) type Fatal = (Option<Origin>, String);

/// What reading gives: the statements and braces in order, the files read (indexed by
/// [`Origin::file`]) and what was noticed on the way.
pub(super) struct Read {
    pub(super) items: Vec<Item>,
    pub(super) sources: Vec<PathBuf>,
    pub(super) notes: Vec<RawNote>,
}

/// The keywords keepalived reads as an include (`includer` and the others only differ in
/// which problems keepalived reports).
const INCLUDES: [&str; 6] = [
    "include", "includer", "includem", "includew", "includeb", "includea",
];

struct Def {
    /// The value's lines: one for `$X=value`, any number for a multi-line definition.
    lines: Vec<String>,
    multiline: bool,
}

struct Reader<'a> {
    files: &'a dyn Files,
    limits: &'a Limits,
    config_id: Option<&'a str>,
    defs: HashMap<String, Def>,
    /// The multi-line definition whose lines are being read.
    collecting: Option<String>,
    sources: Vec<PathBuf>,
    /// Identities of the files being read, outermost first, to notice a loop.
    open: Vec<PathBuf>,
    items: Vec<Item>,
    notes: Vec<RawNote>,
    bytes: u64,
    /// Lines made by multi-line definitions so far.
    expanded: usize,
    /// Bytes rewritten by substitution so far.
    rewritten: u64,
    /// Bytes of the lines read so far, after substitution.
    text: u64,
}

/// Reads `path` and everything it includes.
pub(super) fn read(
    files: &dyn Files,
    path: &Path,
    config_id: Option<&str>,
    limits: &Limits,
) -> Result<Read, (Fatal, Read)> {
    let mut r = Reader {
        files,
        limits,
        config_id,
        defs: HashMap::new(),
        collecting: None,
        sources: Vec::new(),
        open: Vec::new(),
        items: Vec::new(),
        notes: Vec::new(),
        bytes: 0,
        expanded: 0,
        rewritten: 0,
        text: 0,
    };
    let result = r.file(path, 0, None);
    let read = Read {
        items: r.items,
        sources: r.sources,
        notes: r.notes,
    };
    match result {
        Ok(()) => Ok(read),
        Err(fatal) => Err((fatal, read)),
    }
}

impl Reader<'_> {
    fn note(&mut self, origin: Origin, kind: NoteKind, text: String) {
        self.notes.push(RawNote {
            origin: Some(origin),
            kind,
            text,
        });
    }

    /// Reads one file; `from` is the include line that names it.
    fn file(&mut self, path: &Path, depth: usize, from: Option<Origin>) -> Result<(), Fatal> {
        let identity = self.files.identity(path);
        if let Some(at) = self.open.iter().position(|p| *p == identity) {
            let chain: Vec<String> = (self.open.get(at..).unwrap_or_default().iter())
                .chain([&identity])
                .map(|p| p.display().to_string())
                .collect();
            return Err((from, format!("include loop: {}", chain.join(" includes "))));
        }
        if depth > self.limits.include_depth {
            return Err((
                from,
                format!(
                    "includes nested more than {} deep (an include loop through different \
                     names?)",
                    self.limits.include_depth
                ),
            ));
        }
        if self.sources.len() >= self.limits.files {
            return Err((
                from,
                format!(
                    "more than {} files included (the same files again and again?)",
                    self.limits.files
                ),
            ));
        }
        let left = self.limits.total_bytes.saturating_sub(self.bytes);
        let limit = self.limits.file_bytes.min(left);
        let bytes = self.files.read(path, limit).map_err(|e| {
            let e = if limit < self.limits.file_bytes && e.starts_with("longer than") {
                format!(
                    "the files read so far and this one are longer than {} bytes, the most \
                     the importer reads",
                    self.limits.total_bytes
                )
            } else {
                e
            };
            (from, format!("cannot read {}: {e}", path.display()))
        })?;
        self.bytes += bytes.len() as u64;
        let file = u32::try_from(self.sources.len()).unwrap_or(u32::MAX);
        self.sources.push(path.to_path_buf());
        self.open.push(identity);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let result = self.lines(&bytes, file, &dir, depth);
        self.open.pop();
        result
    }

    fn lines(&mut self, bytes: &[u8], file: u32, dir: &Path, depth: usize) -> Result<(), Fatal> {
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let origin = Origin {
                file,
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            };
            let at = |text: String| (Some(origin), text);
            let mut raw = raw;
            while let Some(stripped) = raw.strip_suffix(b"\r") {
                raw = stripped;
            }
            if let Some(col) = raw.iter().position(|b| *b == 0) {
                return Err(at(format!(
                    "binary data (a NUL byte at column {}): not a keepalived configuration",
                    col + 1
                )));
            }
            if raw.len() > self.limits.line_bytes {
                return Err(at(format!(
                    "the line is longer than {} bytes",
                    self.limits.line_bytes
                )));
            }
            let text = decomment(raw);
            let text = String::from_utf8(text).map_err(|e| {
                let bad = e.as_bytes().get(e.utf8_error().valid_up_to()).copied();
                at(format!(
                    "not UTF-8 text (byte {:#04x} outside a comment)",
                    bad.unwrap_or_default()
                ))
            })?;
            if let Some(name) = self.collecting.clone() {
                self.definition_line(&name, text, origin)?;
                continue;
            }
            if !text.is_empty() {
                self.logical(text, origin, dir, depth)?;
            }
        }
        // A definition still open at the end of a file ends there.
        self.collecting = None;
        Ok(())
    }

    /// A line of the multi-line definition `name`.
    fn definition_line(&mut self, name: &str, text: String, origin: Origin) -> Result<(), Fatal> {
        let (line, more) = match text.strip_suffix('\\') {
            Some(head) => (head.trim_end_matches([' ', '\t']).to_owned(), true),
            None => (text, false),
        };
        if let Some(def) = self.defs.get_mut(name) {
            if !line.is_empty() {
                def.lines.push(line);
                self.expanded += 1;
            }
            if !more && def.lines.is_empty() {
                def.multiline = false;
            }
        }
        if self.expanded > self.limits.expanded_lines {
            return Err((
                Some(origin),
                format!(
                    "multi-line definitions make more than {} lines",
                    self.limits.expanded_lines
                ),
            ));
        }
        if !more {
            self.collecting = None;
        }
        Ok(())
    }

    /// One line after its comment is gone, and the lines a multi-line definition makes of it.
    fn logical(
        &mut self,
        line: String,
        origin: Origin,
        dir: &Path,
        depth: usize,
    ) -> Result<(), Fatal> {
        let mut pending = VecDeque::from([line]);
        while let Some(mut buf) = pending.pop_front() {
            let mut rounds = 0;
            loop {
                rounds += 1;
                if rounds > self.limits.substitutions {
                    return Err((
                        Some(origin),
                        "conditions and substitutions never settle (a definition that refers \
                         to itself?)"
                            .to_owned(),
                    ));
                }
                if buf.starts_with('@') {
                    match self.condition(&buf) {
                        Some(rest) => buf = rest,
                        None => {
                            buf.clear();
                            break;
                        }
                    }
                }
                if buf.starts_with('$') && self.define(&buf) {
                    buf.clear();
                    break;
                }
                if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                    let text = format!(
                        "`{}`: the importer does not expand ~SEQ and ~LST lines; write the \
                         lines out",
                        printable(&buf, 60)
                    );
                    self.note(origin, NoteKind::NotCarried, text);
                    buf.clear();
                    break;
                }
                if buf.starts_with('~') || !buf.contains('$') {
                    break;
                }
                let (replaced, more) = self.substitute(&mut buf, dir, origin)?;
                for l in more.into_iter().rev() {
                    pending.push_front(l);
                }
                if !(replaced && (buf.starts_with('@') || buf.contains('$'))) {
                    break;
                }
            }
            if buf.is_empty() {
                continue;
            }
            self.text += buf.len() as u64;
            if self.text > self.limits.text_bytes {
                return Err((
                    Some(origin),
                    format!(
                        "the files make more than {} bytes of text after includes and \
                         substitution",
                        self.limits.text_bytes
                    ),
                ));
            }
            // keepalived 2.2.7 takes the include's file name as written, quotes included.
            let words: Vec<&str> = buf.split_whitespace().collect();
            if let [keyword, pattern] = words.as_slice()
                && INCLUDES.contains(keyword)
            {
                self.include(pattern, origin, dir, depth)?;
                continue;
            }
            for piece in split_braces(&buf) {
                let item = match piece {
                    Piece::Open => Item::Open(origin),
                    Piece::Close => Item::Close(origin),
                    Piece::Text(text) => {
                        let words = line_words(&text).map_err(|e| (Some(origin), e))?;
                        if words.is_empty() {
                            continue;
                        }
                        Item::Words {
                            words,
                            text,
                            origin,
                        }
                    }
                };
                self.items.push(item);
            }
            if self.items.len() > self.limits.statements {
                return Err((
                    Some(origin),
                    format!(
                        "more than {} statements (after includes and definitions)",
                        self.limits.statements
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `@id rest` or `@^id rest`: `rest` when the line applies to this config id.
    fn condition(&self, buf: &str) -> Option<String> {
        let (negated, rest) = match buf.strip_prefix("@^") {
            Some(rest) => (true, rest),
            None => (false, buf.get(1..).unwrap_or_default()),
        };
        let end = rest.find([' ', '\t'])?;
        let id = rest.get(..end).unwrap_or_default();
        let matches = self.config_id == Some(id);
        (matches != negated).then(|| {
            (rest.get(end..).unwrap_or_default())
                .trim_start_matches([' ', '\t'])
                .to_owned()
        })
    }

    /// `$NAME=value`: stores the definition; false when the line is not one.
    fn define(&mut self, buf: &str) -> bool {
        let Some(body) = buf.strip_prefix('$') else {
            return false;
        };
        let Some(eq) = body.find('=') else {
            return false;
        };
        let name = body.get(..eq).unwrap_or_default();
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        let value = (body.get(eq + 1..).unwrap_or_default()).trim_start_matches([' ', '\t']);
        let def = match value.strip_suffix('\\') {
            Some(head) => {
                let head = head.trim_end_matches([' ', '\t']);
                self.collecting = Some(name.to_owned());
                Def {
                    lines: if head.is_empty() {
                        Vec::new()
                    } else {
                        vec![head.to_owned()]
                    },
                    multiline: true,
                }
            }
            None => Def {
                lines: vec![value.to_owned()],
                multiline: false,
            },
        };
        self.defs.insert(name.to_owned(), def);
        true
    }

    /// Replaces the definitions used in `buf`, rescanning each value (so values may use other
    /// definitions). Returns whether anything was replaced, and the further lines of a
    /// multi-line definition used at the end of the line.
    fn substitute(
        &mut self,
        buf: &mut String,
        dir: &Path,
        origin: Origin,
    ) -> Result<(bool, Vec<String>), Fatal> {
        let mut pos = 0;
        let mut count = 0;
        let mut more: Vec<String> = Vec::new();
        while let Some(off) = buf.get(pos..).and_then(|rest| rest.find('$')) {
            let at = pos + off;
            let after = buf.get(at + 1..).unwrap_or_default();
            let Some((name, len, at_end)) = reference(after) else {
                pos = at + 1;
                continue;
            };
            let value: Option<(String, Vec<String>)> = match self.defs.get(name) {
                Some(def) if def.multiline => at_end.then(|| {
                    let first = def.lines.first().cloned().unwrap_or_default();
                    (first, def.lines.get(1..).unwrap_or_default().to_vec())
                }),
                Some(def) => Some((def.lines.concat(), Vec::new())),
                None => self.builtin(name, dir).map(|v| (v, Vec::new())),
            };
            let Some((value, lines)) = value else {
                pos = at + 1;
                continue;
            };
            count += 1;
            if !lines.is_empty() {
                self.expanded += lines.len();
                // This definition's lines come before those of an earlier one on this line.
                let earlier = std::mem::take(&mut more);
                more = lines;
                more.extend(earlier);
            }
            let name_owned = name.to_owned();
            buf.replace_range(at..at + 1 + len, &value);
            self.rewritten += buf.len() as u64;
            if self.rewritten > self.limits.substitution_bytes {
                return Err((
                    Some(origin),
                    format!(
                        "substitution rewrites more than {} bytes in all (long definitions \
                         used very often, or definitions that grow)",
                        self.limits.substitution_bytes
                    ),
                ));
            }
            if count > self.limits.substitutions || buf.len() > self.limits.line_bytes {
                return Err((
                    Some(origin),
                    format!(
                        "substituting ${name_owned} does not end, or makes the line longer \
                         than {} bytes (a definition that refers to itself?)",
                        self.limits.line_bytes
                    ),
                ));
            }
            if self.expanded > self.limits.expanded_lines {
                return Err((
                    Some(origin),
                    format!(
                        "multi-line definitions make more than {} lines",
                        self.limits.expanded_lines
                    ),
                ));
            }
            pos = at;
        }
        Ok((count > 0, more))
    }

    /// keepalived's predefined names: `_PWD` (the directory of the file being read),
    /// `_INSTANCE` (the config id), `_HASH` and `_BANG`. `_RANDOM` stays as written.
    fn builtin(&self, name: &str, dir: &Path) -> Option<String> {
        match name {
            "_PWD" => Some(dir.display().to_string()),
            "_INSTANCE" => self.config_id.map(str::to_owned),
            "_HASH" => Some("#".to_owned()),
            "_BANG" => Some("!".to_owned()),
            _ => None,
        }
    }

    /// An include line: each file the glob matches, in order.
    fn include(
        &mut self,
        pattern: &str,
        origin: Origin,
        dir: &Path,
        depth: usize,
    ) -> Result<(), Fatal> {
        let found = glob(self.files, dir, pattern).map_err(|e| {
            (
                Some(origin),
                format!("include {}: {e}", printable(pattern, 80)),
            )
        })?;
        if found.is_empty() {
            let text = format!(
                "include {}: no file matches (keepalived skips it as well)",
                printable(pattern, 80)
            );
            self.note(origin, NoteKind::Note, text);
        }
        for path in found {
            match self.files.kind(&path) {
                Some(Kind::File { executable: false }) => {
                    self.file(&path, depth + 1, Some(origin))?;
                }
                Some(Kind::Dir) => {}
                Some(Kind::File { executable: true }) => {
                    let text = format!(
                        "include: {} has an execute bit, so keepalived skips it; so does the \
                         importer",
                        path.display()
                    );
                    self.note(origin, NoteKind::NotCarried, text);
                }
                Some(Kind::Other) | None => {
                    let text = format!(
                        "include: {} is not a regular file; skipped, as keepalived does",
                        path.display()
                    );
                    self.note(origin, NoteKind::NotCarried, text);
                }
            }
        }
        Ok(())
    }
}

/// A use of a definition at the start of `s` (just after the `$`): `NAME` followed by white
/// space, `,`, `)` or the end, or `{NAME}`. Returns the name, the length used and whether it
/// ends the line (where a multi-line definition may be used).
fn reference(s: &str) -> Option<(&str, usize, bool)> {
    let braces = s.starts_with('{');
    let start = usize::from(braces);
    let body = s.get(start..)?;
    let mut chars = body.char_indices();
    let first = chars.next()?.1;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let end = chars
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(body.len(), |(i, _)| i);
    let name = body.get(..end)?;
    let next = body.get(end..)?.chars().next();
    if braces {
        if next != Some('}') {
            return None;
        }
        let len = end + 2;
        Some((name, len, len == s.len()))
    } else {
        match next {
            None | Some(' ' | '\t' | ',' | ')') => Some((name, end, end == s.len())),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::MemFiles;

    fn statements(files: &MemFiles, id: Option<&str>) -> Result<Vec<String>, String> {
        let limits = Limits::default();
        match read(files, Path::new("/k/keepalived.conf"), id, &limits) {
            Ok(r) => Ok(r
                .items
                .iter()
                .map(|i| match i {
                    Item::Words { words, origin, .. } => {
                        format!("{}:{} {}", origin.file, origin.line, words.join("|"))
                    }
                    Item::Open(_) => "{".to_owned(),
                    Item::Close(_) => "}".to_owned(),
                })
                .collect()),
            Err(((origin, e), _)) => Err(format!(
                "{}: {e}",
                origin.map_or(String::new(), |o| format!("{}:{}", o.file, o.line))
            )),
        }
    }

    fn one(text: &str, id: Option<&str>) -> Result<Vec<String>, String> {
        let mut files = MemFiles::new();
        files.add("/k/keepalived.conf", text);
        statements(&files, id)
    }

    #[test]
    fn conditions() {
        let text = "@lb1 priority 150\n@lb2 priority 100\n@^lb1 state BACKUP\n@lb1\n";
        assert_eq!(one(text, Some("lb1")).unwrap(), ["0:1 priority|150"]);
        assert_eq!(
            one(text, Some("lb2")).unwrap(),
            ["0:2 priority|100", "0:3 state|BACKUP"]
        );
        assert_eq!(one(text, None).unwrap(), ["0:3 state|BACKUP"]);
    }

    #[test]
    fn definitions() {
        let text = "$BASE=10.0.${SUB}\n$SUB=1\n${BASE}.5/24\n$SUB=2\n${BASE}.5/24\n\
                    @lb1 $P=150\n@lb2 $P=100\npriority $P\n$UNDEF_KEPT $X\n";
        assert_eq!(
            one(text, Some("lb2")).unwrap(),
            [
                "0:3 10.0.1.5/24",
                "0:5 10.0.2.5/24",
                "0:8 priority|100",
                "0:9 $UNDEF_KEPT|$X"
            ]
        );
    }

    #[test]
    fn multiline_definitions() {
        let text = "$INST= \\\nvrrp_instance VI_${N} { \\\n  virtual_router_id ${N} \\\n}\n\
                    $N=1\n$INST\n$N=2\n$INST\n";
        assert_eq!(
            one(text, None).unwrap(),
            [
                "0:6 vrrp_instance|VI_1",
                "{",
                "0:6 virtual_router_id|1",
                "}",
                "0:8 vrrp_instance|VI_2",
                "{",
                "0:8 virtual_router_id|2",
                "}"
            ]
        );
    }

    #[test]
    fn self_reference_is_bounded() {
        let e = one("$A=x $A\n$A\n", None).unwrap_err();
        assert!(e.starts_with("0:2: "), "{e}");
        let e = one("$A=@h $A\n$A\n", Some("h")).unwrap_err();
        assert!(e.starts_with("0:2: "), "{e}");
    }

    #[test]
    fn includes_globs_and_loops() {
        let mut files = MemFiles::new();
        files
            .add("/k/keepalived.conf", "include conf.d/*.conf\nlast 1\n")
            .add("/k/conf.d/b.conf", "b 1\n")
            .add("/k/conf.d/a.conf", "a 1\ninclude ../sub/x.conf\n")
            .add("/k/sub/x.conf", "x $_PWD\n");
        assert_eq!(
            statements(&files, None).unwrap(),
            ["1:1 a|1", "2:1 x|/k/sub", "3:1 b|1", "0:2 last|1"]
        );
        files.add("/k/sub/x.conf", "include /k/keepalived.conf\n");
        let e = statements(&files, None).unwrap_err();
        assert!(
            e.starts_with("2:1: include loop: /k/keepalived.conf includes "),
            "{e}"
        );
    }

    #[test]
    fn binary_and_bad_text() {
        assert!(
            one("a 1\n\0\n", None)
                .unwrap_err()
                .starts_with("0:2: binary data")
        );
        assert!(
            one("a \"open\n", None)
                .unwrap_err()
                .starts_with("0:1: a `\"` is never closed")
        );
        assert!(one("a \u{e9}\n", None).is_ok());
        let mut files = MemFiles::new();
        files.add("/k/keepalived.conf", b"# caf\xe9\nb \xe9\n".to_vec());
        assert!(
            statements(&files, None)
                .unwrap_err()
                .starts_with("0:2: not UTF-8")
        );
    }
}
