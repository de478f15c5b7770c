//! Commands: a `vrrp_script`'s `script` and the notify keywords, as keepalived 2.2 runs them.
//!
//! keepalived reads the statement again with quotes and escapes; the word after the keyword
//! is the command, which it splits into words once more and runs without a shell (a
//! `notify "/bin/echo x > /tmp/f"` passes `>` to echo). The one exception is a command
//! whose first word starts with `<` (`</dev/tcp/127.0.0.1/80`, a file test): keepalived
//! hands that to `/bin/sh`, and so does the import. After the command, a notify keyword
//! takes the user (and group) to run it as; a `vrrp_script`'s `script` ignores further
//! words.

use super::super::tree::Node;
use super::super::words::{printable, quoted_words};

/// A command as keepalived runs it.
pub(super) struct Command {
    pub(super) argv: Vec<String>,
    /// The words after the command: a notify's user and group, or what `script` ignores.
    pub(super) after: Vec<String>,
    /// Remarks about how it runs.
    pub(super) remarks: Vec<String>,
}

/// The command of `node` (`script ...`, `notify_master ...`); the error says why there is
/// none vipd can run.
pub(super) fn command(node: &Node) -> Result<Command, String> {
    let words = quoted_words(&node.text)?;
    let Some(line) = words.get(1) else {
        return Err("no command is given".to_owned());
    };
    let after = words.get(2..).unwrap_or_default().to_vec();
    let parts = quoted_words(line)?;
    let Some(program) = parts.first() else {
        return Err("the command is empty".to_owned());
    };
    let mut remarks = Vec::new();
    if program.starts_with('<') {
        // keepalived's cmd_str(): the first word as is, the others in single quotes.
        let mut shell_line = program.clone();
        for p in parts.get(1..).unwrap_or_default() {
            shell_line.push_str(" '");
            shell_line.push_str(&p.replace('\'', "'\\''"));
            shell_line.push('\'');
        }
        remarks.push(format!(
            "keepalived runs a command that starts with `<` through /bin/sh; so does the \
             import: {}",
            printable(&shell_line, 60)
        ));
        return Ok(Command {
            argv: vec!["/bin/sh".to_owned(), "-c".to_owned(), shell_line],
            after,
            remarks,
        });
    }
    if program.contains('/') && !program.starts_with('/') {
        return Err(format!(
            "`{}` is a relative path, which depends on the working directory; give the \
             absolute path",
            printable(program, 60)
        ));
    }
    if let Some(word) = parts.iter().find(|w| looks_like_shell(w)) {
        remarks.push(format!(
            "`{}` reaches the program as an argument: keepalived 2.2 runs commands without a \
             shell, and so does vipd. If a shell was meant, write [\"/bin/sh\", \"-c\", \"...\"]",
            printable(word, 30)
        ));
    }
    Ok(Command {
        argv: parts,
        after,
        remarks,
    })
}

/// Words a shell would act on: pipes, redirections, lists, variables, substitutions.
fn looks_like_shell(word: &str) -> bool {
    word.contains(['|', '&', ';', '<', '>', '$', '`'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Origin;

    fn node(text: &str) -> Node {
        Node {
            words: text.split_whitespace().map(str::to_owned).collect(),
            text: text.to_owned(),
            origin: Origin { file: 0, line: 1 },
            block: None,
        }
    }

    #[test]
    fn notify_commands() {
        let c = command(&node(
            "notify_master \"/etc/k/notify.sh master 'a b'\" root",
        ))
        .unwrap();
        assert_eq!(c.argv, ["/etc/k/notify.sh", "master", "a b"]);
        assert_eq!(c.after, ["root"]);
        assert!(c.remarks.is_empty());
        let c = command(&node("notify_master /bin/echo a b")).unwrap();
        assert_eq!(c.argv, ["/bin/echo"]);
        assert_eq!(c.after, ["a", "b"]);
        let c = command(&node("notify \"/bin/echo x > /tmp/f\"")).unwrap();
        assert_eq!(c.argv, ["/bin/echo", "x", ">", "/tmp/f"]);
        assert_eq!(c.remarks.len(), 1);
        assert!(command(&node("notify")).is_err());
        assert!(command(&node("notify \"\"")).is_err());
        assert!(command(&node("notify bin/x")).is_err());
        let c = command(&node("script \"</dev/tcp/127.0.0.1/80\"")).unwrap();
        assert_eq!(c.argv, ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"]);
    }
}
