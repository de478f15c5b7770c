//! Where the importer reads files from ([`Files`]): the file system ([`RealFiles`]) or memory
//! ([`MemFiles`], for tests and fuzzing), and the glob of an `include` line.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A regular file; keepalived skips included files with an execute bit.
    File {
        executable: bool,
    },
    Other,
}

/// The files the importer may read. Paths are absolute or relative to the working directory,
/// as given.
pub trait Files {
    /// What `path` names (following symbolic links), or `None` when nothing is there.
    fn kind(&self, path: &Path) -> Option<Kind>;
    /// The bytes of the regular file `path`; an error when it is longer than `limit` bytes.
    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, String>;
    /// The names in directory `dir` (names that are not UTF-8 are left out).
    fn list(&self, dir: &Path) -> Result<Vec<String>, String>;
    /// One name per file, to notice an include loop: the canonical path where there is one.
    fn identity(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

/// The file system.
pub struct RealFiles;

impl Files for RealFiles {
    fn kind(&self, path: &Path) -> Option<Kind> {
        let meta = std::fs::metadata(path).ok()?;
        Some(if meta.is_dir() {
            Kind::Dir
        } else if meta.is_file() {
            Kind::File {
                executable: meta.permissions().mode() & 0o111 != 0,
            }
        } else {
            Kind::Other
        })
    }

    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, String> {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".to_owned());
        }
        let too_long = || format!("longer than {limit} bytes, the most the importer reads");
        if meta.len() > limit {
            return Err(too_long());
        }
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 > limit {
            return Err(too_long());
        }
        Ok(bytes)
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
        Ok(entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect())
    }

    fn identity(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
    }
}

/// Files held in memory, by absolute path; directories are implied by the files' paths.
#[derive(Clone, Debug, Default)]
pub struct MemFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemFiles {
    pub fn new() -> MemFiles {
        MemFiles::default()
    }

    /// Adds (or replaces) the file at `path`.
    pub fn add(&mut self, path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> &mut MemFiles {
        self.files.insert(normalize(path.as_ref()), bytes.into());
        self
    }
}

impl Files for MemFiles {
    fn kind(&self, path: &Path) -> Option<Kind> {
        let path = normalize(path);
        if self.files.contains_key(&path) {
            return Some(Kind::File { executable: false });
        }
        let under = self
            .files
            .keys()
            .any(|f| f.starts_with(&path) && *f != path);
        under.then_some(Kind::Dir)
    }

    fn read(&self, path: &Path, limit: u64) -> Result<Vec<u8>, String> {
        match self.files.get(&normalize(path)) {
            Some(b) if b.len() as u64 > limit => Err(format!(
                "longer than {limit} bytes, the most the importer reads"
            )),
            Some(b) => Ok(b.clone()),
            None if self.kind(path).is_some() => Err("not a regular file".to_owned()),
            None => Err("No such file or directory (os error 2)".to_owned()),
        }
    }

    fn list(&self, dir: &Path) -> Result<Vec<String>, String> {
        let dir = normalize(dir);
        if self.kind(&dir) != Some(Kind::Dir) {
            return Err("No such file or directory (os error 2)".to_owned());
        }
        let mut names: Vec<String> = (self.files.keys())
            .filter_map(|f| {
                let rest = f.strip_prefix(&dir).ok()?;
                let first = rest.components().next()?;
                first.as_os_str().to_str().map(str::to_owned)
            })
            .collect();
        names.dedup();
        Ok(names)
    }
}

/// `path` with `.` and `..` resolved as text (no symbolic link is followed).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

// -----------------------------------------------------------------------------------------
// Globs, as glob(3) with GLOB_BRACE reads an include's file name.

/// How many names one `{a,b}` expansion may give, and how many files one glob may match.
const MAX_GLOB_RESULTS: usize = 4096;
/// How many directory entries one glob may look at.
const MAX_GLOB_EXAMINED: usize = 100_000;

/// The paths that `pattern` matches, relative to `dir` unless absolute: `*`, `?`, `[...]` in
/// any component, `{a,b}` alternatives. Hidden names match only a component that starts with
/// a dot. Each alternative's matches are sorted, as glob(3) sorts them. A pattern without
/// wildcards matches the path when something is there.
pub(super) fn glob(files: &dyn Files, dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    // Names looked at in directories, so that `/*/*/*` ends early.
    let mut examined = 0usize;
    for alternative in expand_braces(pattern)? {
        let start = if alternative.starts_with('/') {
            PathBuf::from("/")
        } else {
            dir.to_path_buf()
        };
        let mut current = vec![start];
        let parts: Vec<&str> = alternative.split('/').filter(|p| !p.is_empty()).collect();
        for part in parts {
            let mut next = Vec::new();
            for base in &current {
                if !has_wildcard(part) {
                    let path = base.join(unescape(part));
                    if files.kind(&path).is_some() {
                        next.push(path);
                    }
                    continue;
                }
                let Ok(mut names) = files.list(base) else {
                    continue;
                };
                examined += names.len();
                if examined > MAX_GLOB_EXAMINED {
                    return Err(format!(
                        "looks at more than {MAX_GLOB_EXAMINED} names in directories"
                    ));
                }
                names.sort();
                for name in names {
                    let hidden_ok = part.starts_with('.') || !name.starts_with('.');
                    if hidden_ok && name != "." && name != ".." && matches(part, &name) {
                        next.push(base.join(name));
                    }
                }
            }
            if next.len() > MAX_GLOB_RESULTS {
                return Err(format!("matches more than {MAX_GLOB_RESULTS} files"));
            }
            current = next;
        }
        out.extend(current.iter().map(|p| normalize(p)));
        if out.len() > MAX_GLOB_RESULTS {
            return Err(format!("matches more than {MAX_GLOB_RESULTS} files"));
        }
    }
    Ok(out)
}

fn has_wildcard(part: &str) -> bool {
    part.contains(['*', '?', '['])
}

fn unescape(part: &str) -> String {
    let mut out = String::new();
    let mut chars = part.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `a{b,c}d` → `abd`, `acd` (nested braces too). A brace without a comma is kept as text.
fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    let mut todo = vec![pattern.to_owned()];
    while let Some(p) = todo.pop() {
        match first_alternatives(&p) {
            None => done.push(p),
            Some((open, close, commas)) => {
                let head = p.get(..open).unwrap_or_default();
                let tail = p.get(close + 1..).unwrap_or_default();
                let mut bounds = vec![open];
                bounds.extend(&commas);
                bounds.push(close);
                // Pushed in reverse so that the first alternative is expanded first.
                for w in bounds.windows(2).rev() {
                    let (a, b) = (w[0], w[1]);
                    let middle = p.get(a + 1..b).unwrap_or_default();
                    todo.push(format!("{head}{middle}{tail}"));
                }
            }
        }
        if done.len() + todo.len() > MAX_GLOB_RESULTS {
            return Err(format!(
                "its {{...}} alternatives make more than {MAX_GLOB_RESULTS} names"
            ));
        }
    }
    Ok(done)
}

/// The first `{` that has a matching `}` and a comma at its own level: its offset, the
/// offset of the `}` and those of the commas.
fn first_alternatives(p: &str) -> Option<(usize, usize, Vec<usize>)> {
    let bytes = p.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(b'{') => {
                let mut depth = 0usize;
                let mut commas = Vec::new();
                let mut j = i;
                while j < bytes.len() {
                    match bytes.get(j) {
                        Some(b'\\') => j += 1,
                        Some(b'{') => depth += 1,
                        Some(b'}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        Some(b',') if depth == 1 => commas.push(j),
                        _ => {}
                    }
                    j += 1;
                }
                if j < bytes.len() && !commas.is_empty() {
                    return Some((i, j, commas));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// fnmatch(3) without flags: `*`, `?`, `[...]` (with `!` or `^` negation and ranges), `\`
/// escapes. Linear in practice: one backtracking point, for the last `*`.
pub(super) fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => class(&p, pi, n[ni]),
            Some('\\') if pi + 1 < p.len() => (p.get(pi + 1) == n.get(ni)).then_some(2),
            Some(c) => (*c == n[ni]).then_some(1),
            None => None,
        };
        match step {
            Some(width) => {
                pi += width;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Whether `c` is in the class starting at `p[start]` (a `[`): the class's width in pattern
/// characters when it is, `None` when it is not. A `[` without its `]` matches itself.
fn class(p: &[char], start: usize, c: char) -> Option<usize> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let x = *p.get(i)?;
        if x == ']' && !first {
            break;
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
            let hi = *p.get(i + 2)?;
            found |= x <= c && c <= hi;
            i += 3;
        } else {
            found |= x == c;
            i += 1;
        }
    }
    (found != negate).then_some(i + 1 - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch() {
        assert!(matches("*.conf", "a.conf"));
        assert!(!matches("*.conf", "a.conf.bak"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[!a-c]x", "bx"));
        assert!(matches("*", ""));
        assert!(matches("**a*b*", "xxaxxbxx"));
        assert!(!matches("[", "a"));
        assert!(matches("\\*", "*"));
        assert!(!matches("a", "ab"));
    }

    #[test]
    fn braces() {
        assert_eq!(expand_braces("a{b,c}d").unwrap(), ["abd", "acd"]);
        assert_eq!(expand_braces("{x,y{1,2}}").unwrap(), ["x", "y1", "y2"]);
        assert_eq!(expand_braces("{a}").unwrap(), ["{a}"]);
        assert!(expand_braces(&"{a,b}".repeat(20)).is_err());
    }

    #[test]
    fn globs_in_memory() {
        let mut files = MemFiles::new();
        files
            .add("/etc/k/conf.d/b.conf", "")
            .add("/etc/k/conf.d/a.conf", "")
            .add("/etc/k/conf.d/.hidden.conf", "")
            .add("/etc/k/conf.d/x.txt", "")
            .add("/etc/k/main.conf", "");
        let dir = Path::new("/etc/k");
        let found = glob(&files, dir, "conf.d/*.conf").unwrap();
        assert_eq!(
            found,
            [
                PathBuf::from("/etc/k/conf.d/a.conf"),
                PathBuf::from("/etc/k/conf.d/b.conf")
            ]
        );
        assert_eq!(glob(&files, dir, "/etc/k/main.conf").unwrap().len(), 1);
        assert!(glob(&files, dir, "missing.conf").unwrap().is_empty());
        assert_eq!(glob(&files, dir, "conf.d/{b,a}.conf").unwrap().len(), 2);
        assert_eq!(glob(&files, dir, "*/*").unwrap().len(), 3);
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
