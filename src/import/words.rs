//! keepalived's lexical rules, as its parser (keepalived 2.2, `lib/parser.c`) applies them:
//! comments, the words of a line, quoted and escaped words, and braces.

/// keepalived's white space (`WHITE_SPACE_STR`).
const WHITE: &[char] = &[' ', '\t', '\x0c', '\n', '\r', '\x0b'];

fn is_white(c: char) -> bool {
    WHITE.contains(&c)
}

/// A line with its comment removed, as keepalived's `decomment()` leaves it: leading and
/// trailing blanks removed; `#` or `!` outside double quotes starts a comment; `\#` and `\!`
/// outside quotes stand for the character itself; a `\` that ends the line continues it (only
/// a multi-line `$NAME=` definition uses that) and is kept as the last byte.
///
/// Works on bytes so that a comment may hold anything; what is left must then be UTF-8.
pub(super) fn decomment(line: &[u8]) -> Vec<u8> {
    let start = line
        .iter()
        .position(|b| *b != b' ' && *b != b'\t')
        .unwrap_or(line.len());
    let line = line.get(start..).unwrap_or_default();
    let mut out = Vec::with_capacity(line.len());
    let mut quote = false;
    let mut comment = false;
    let mut continued = false;
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        match b {
            b'"' if !comment => quote = !quote,
            b'\\' => match line.get(i + 1) {
                None => {
                    continued = true;
                    break;
                }
                Some(&next) => {
                    if !quote && !comment && (next == b'#' || next == b'!') {
                        // The escape is removed; the character stays.
                        out.push(next);
                    } else if !comment {
                        out.push(b);
                        out.push(next);
                    }
                    i += 2;
                    continue;
                }
            },
            b'#' | b'!' if !quote => comment = true,
            _ => {}
        }
        if !comment {
            out.push(b);
        }
        i += 1;
    }
    while out.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
        out.pop();
    }
    if continued {
        out.push(b'\\');
    }
    out
}

/// The words of a line as keepalived's `alloc_strvec()` splits it: at white space; a word
/// that starts with `"` runs to the next `"` (the quotes removed, white space kept). Single
/// quotes and backslashes mean nothing here.
pub(super) fn line_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_white);
        if rest.is_empty() {
            return Ok(words);
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return Err(format!("a `\"` is never closed: {}", shorten(rest, 60)));
            };
            words.push(quoted.get(..end).unwrap_or_default().to_owned());
            rest = quoted.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest
                .find(|c: char| is_white(c) || c == '"')
                .unwrap_or(rest.len());
            words.push(rest.get(..end).unwrap_or_default().to_owned());
            rest = rest.get(end..).unwrap_or_default();
        }
    }
}

/// The words of a command as keepalived's `alloc_strvec_quoted_escaped()` splits them, the
/// way it reads a script or notify command: at white space outside quotes; `"…"` and `'…'`
/// keep white space; a backslash escapes, inside quotes too (`\n`, `\t`, `\xHH`, `\NNN`
/// octal, `\cC` control, any other character as itself).
pub(super) fn quoted_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| is_white(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, c) if is_white(c) => break,
                (_, '\\') => {
                    chars.next();
                    let Some(e) = chars.next() else {
                        return Err(format!(
                            "a `\\` ends the command, escaping nothing: {}",
                            shorten(text, 60)
                        ));
                    };
                    escape(e, &mut chars, &mut word);
                    continue;
                }
                (Some(q), c) if c == q => quote = None,
                (None, '"' | '\'') => quote = Some(c),
                (_, c) => {
                    let mut buf = [0u8; 4];
                    word.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            chars.next();
        }
        if let Some(q) = quote {
            return Err(format!("a `{q}` is never closed: {}", shorten(text, 60)));
        }
        if word.contains(&0) {
            return Err(format!(
                "an escape makes a NUL byte, which no argument can hold: {}",
                shorten(text, 60)
            ));
        }
        let word = String::from_utf8(word).map_err(|_| {
            format!(
                "an escape makes bytes that are not UTF-8: {}",
                shorten(text, 60)
            )
        })?;
        words.push(word);
    }
    Ok(words)
}

/// One escape after a backslash; `e` is the character after it.
fn escape(e: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>, word: &mut Vec<u8>) {
    let byte = match e {
        'x' if chars.peek().is_some_and(char::is_ascii_hexdigit) => {
            // keepalived reads every hex digit that follows into one char.
            let mut v: u8 = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(16)) {
                v = v.wrapping_shl(4) | d as u8;
                chars.next();
            }
            v
        }
        'c' if chars.peek().is_some() => {
            let c = chars.next().map_or(0, |c| c as u32);
            (c & 0x1f) as u8
        }
        '0'..='7' => {
            let mut v = e as u8 - b'0';
            for _ in 0..2 {
                match chars.peek().and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        v = v.wrapping_shl(3).wrapping_add(d as u8);
                        chars.next();
                    }
                    None => break,
                }
            }
            v
        }
        'a' => 0x07,
        'b' => 0x08,
        'E' => 0x1b,
        'f' => 0x0c,
        'n' => b'\n',
        'r' => b'\r',
        't' => b'\t',
        'v' => 0x0b,
        other => {
            let mut buf = [0u8; 4];
            word.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
            return;
        }
    };
    word.push(byte);
}

/// A piece of a line: text, or a brace that keepalived reads as a line of its own.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Open,
    Close,
}

/// Splits a line at each `{` and `}` outside double quotes, as keepalived's `read_line()`
/// does: `vrrp_instance VI_1 { state MASTER }` is `vrrp_instance VI_1`, `{`, `state MASTER`,
/// `}`. After a quote that is never closed, no brace counts.
pub(super) fn split_braces(line: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return pieces;
        }
        if let Some(after) = rest.strip_prefix('{') {
            pieces.push(Piece::Open);
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix('}') {
            pieces.push(Piece::Close);
            rest = after;
            continue;
        }
        match first_brace(rest) {
            Some(at) => {
                pieces.push(Piece::Text(rest.get(..at).unwrap_or_default().to_owned()));
                rest = rest.get(at..).unwrap_or_default();
            }
            None => {
                pieces.push(Piece::Text(rest.to_owned()));
                return pieces;
            }
        }
    }
}

/// Byte offset of the first `{` or `}` outside double quotes.
fn first_brace(s: &str) -> Option<usize> {
    let mut quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quote = !quote,
            '{' | '}' if !quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// At most `max` characters of `s`, with `…` when cut; for messages.
pub(super) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", s.get(..at).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// A printable one-line form of `s` for a message or a TOML comment: control characters
/// escaped, at most `max` characters (then `…`). Only the part shown is looked at.
pub(super) fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in s.chars().enumerate() {
        if count >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> String {
        String::from_utf8(decomment(s.as_bytes())).unwrap()
    }

    #[test]
    fn comments_and_escapes() {
        assert_eq!(dec("  priority 100  # main"), "priority 100");
        assert_eq!(dec("priority 100 ! main"), "priority 100");
        assert_eq!(dec("! whole line"), "");
        assert_eq!(
            dec("script \"/bin/x # not a comment\" # one"),
            "script \"/bin/x # not a comment\""
        );
        assert_eq!(dec("auth_pass a\\#b"), "auth_pass a#b");
        assert_eq!(dec("$X=a \\"), "$X=a\\");
        assert_eq!(dec("$X=a # c \\"), "$X=a\\");
        assert_eq!(dec("\t\tstate MASTER\t"), "state MASTER");
    }

    #[test]
    fn words_of_a_line() {
        assert_eq!(
            line_words("notify_master \"/bin/x a b\" root").unwrap(),
            ["notify_master", "/bin/x a b", "root"]
        );
        assert_eq!(line_words("a'b c'").unwrap(), ["a'b", "c'"]);
        assert_eq!(line_words("ab\"c d\"e").unwrap(), ["ab", "c d", "e"]);
        assert!(line_words("x \"open").is_err());
        assert!(line_words("").unwrap().is_empty());
    }

    #[test]
    fn quoted_and_escaped_words() {
        assert_eq!(
            quoted_words("/usr/bin/logger 'a b' \"c d\" e\\ f").unwrap(),
            ["/usr/bin/logger", "a b", "c d", "e f"]
        );
        assert_eq!(
            quoted_words("a\\tb \\x41\\101 \\cA").unwrap(),
            ["a\tb", "AA", "\u{1}"]
        );
        assert_eq!(quoted_words("'it''s'").unwrap(), ["its"]);
        assert!(quoted_words("x 'open").is_err());
        assert!(quoted_words("x \\").is_err());
        assert!(quoted_words("\\x00").is_err());
        assert!(quoted_words("\\xff").is_err());
    }

    #[test]
    fn braces_are_lines_of_their_own() {
        use Piece::*;
        assert_eq!(
            split_braces("vrrp_instance VI_1 { state MASTER }"),
            [
                Text("vrrp_instance VI_1 ".into()),
                Open,
                Text("state MASTER ".into()),
                Close
            ]
        );
        assert_eq!(split_braces("}}"), [Close, Close]);
        assert_eq!(
            split_braces("script \"echo {\" {"),
            [Text("script \"echo {\" ".into()), Open]
        );
    }
}
