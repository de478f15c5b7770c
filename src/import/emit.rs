//! The TOML text: a header, the notes that belong to no section, then `[global]`, the
//! trackers, the instances and the sync groups, each with a comment naming the keepalived
//! file and line it came from and its own notes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::convert::{Doc, Head, NOTIFY_KEYS, NotifyOut, TrackOut, duration};
use super::words::printable;
use super::{NoteKind, Origin, Place, RawNote};

/// What the header says.
pub(super) struct Header<'a> {
    pub(super) source: &'a Path,
    pub(super) config_id: Option<&'a str>,
    pub(super) sources: &'a [PathBuf],
    pub(super) not_carried: usize,
    pub(super) notes: usize,
}

/// The file for `doc`; `place` turns an origin into a file and line.
pub(super) fn emit(
    doc: &Doc,
    header: &Header<'_>,
    place: &dyn Fn(Origin) -> Option<Place>,
) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    let comment = |out: &mut String, text: &str| {
        // One line, whatever file names or values hold.
        out.push_str("# ");
        out.push_str(&printable(text, 10_000));
        out.push('\n');
    };
    comment(
        &mut out,
        &format!(
            "vipd configuration imported from {} by `vipd import-keepalived`.",
            header.source.display()
        ),
    );
    if header.sources.len() > 1 {
        let others: Vec<String> = (header.sources.get(1..).unwrap_or_default().iter())
            .map(|p| p.display().to_string())
            .collect();
        comment(&mut out, &format!("Also read: {}.", others.join(", ")));
    }
    comment(
        &mut out,
        &match header.config_id {
            Some(id) => format!("`@name` lines were read for the config id `{id}`."),
            None => "No config id: no `@name` line applies, every `@^name` line does.".to_owned(),
        },
    );
    comment(
        &mut out,
        &format!(
            "{} not carried, {} {}: each is listed where it applies, and was printed on stderr.",
            header.not_carried,
            header.notes,
            if header.notes == 1 { "note" } else { "notes" }
        ),
    );
    comment(
        &mut out,
        "Check it with `vipd check -c FILE` on the host that runs it.",
    );
    if !doc.top.is_empty() {
        line(&mut out, "");
        notes(&mut out, &doc.top, place);
    }
    if let Some(g) = &doc.global {
        line(&mut out, "");
        line(&mut out, "[global]");
        head(&mut out, &g.head, place);
        if let Some(id) = &g.router_id {
            line(&mut out, &format!("router_id = {}", string(id)));
        }
        if let Some(user) = &g.script_user {
            line(&mut out, &format!("script_user = {}", string(user)));
        }
    }
    for s in &doc.scripts {
        line(&mut out, "");
        line(&mut out, "[[track_script]]");
        head(&mut out, &s.head, place);
        line(&mut out, &format!("name = {}", string(&s.name)));
        line(&mut out, &format!("command = {}", list(&s.command)));
        line(
            &mut out,
            &format!("interval = \"{}\"", duration(s.interval_ms)),
        );
        if let Some(t) = s.timeout_ms {
            line(&mut out, &format!("timeout = \"{}\"", duration(t)));
        }
        line(&mut out, &format!("rise = {}", s.rise));
        line(&mut out, &format!("fall = {}", s.fall));
    }
    for f in &doc.files {
        line(&mut out, "");
        line(&mut out, "[[track_file]]");
        head(&mut out, &f.head, place);
        line(&mut out, &format!("name = {}", string(&f.name)));
        line(&mut out, &format!("path = {}", string(&f.path)));
    }
    for i in &doc.instances {
        line(&mut out, "");
        line(&mut out, "[[instance]]");
        head(&mut out, &i.head, place);
        line(&mut out, &format!("name = {}", string(&i.name)));
        line(&mut out, &format!("interface = {}", string(&i.interface)));
        line(&mut out, &format!("vrid = {}", i.vrid));
        line(&mut out, &format!("priority = {}", i.priority));
        line(&mut out, &format!("version = {}", i.version));
        line(
            &mut out,
            &format!("advert_interval = \"{}\"", duration(i.advert_ms)),
        );
        if !i.preempt {
            line(&mut out, "preempt = false");
        }
        if i.preempt_delay_ms > 0 {
            line(
                &mut out,
                &format!("preempt_delay = \"{}\"", duration(i.preempt_delay_ms)),
            );
        }
        line(
            &mut out,
            &format!("virtual_addresses = {}", list(&i.addresses)),
        );
        if !i.peers.is_empty() {
            line(&mut out, &format!("unicast_peers = {}", list(&i.peers)));
        }
        if let Some(pass) = &i.auth_pass {
            line(&mut out, &format!("auth_pass = {}", string(pass)));
        }
        if let Some(name) = &i.virtual_mac {
            line(&mut out, "virtual_mac = true");
            if let Some(name) = name {
                line(&mut out, &format!("vmac_interface = {}", string(name)));
            }
        }
        if let Some(s) = i.garp_refresh_s {
            line(&mut out, &format!("garp_refresh = \"{s}s\""));
        }
        if !i.accept_mode {
            line(&mut out, "accept_mode = false");
        }
        if !i.track.is_empty() {
            out.push_str(&track(&i.track));
        }
        notify(&mut out, &i.notify);
    }
    for g in &doc.groups {
        line(&mut out, "");
        line(&mut out, "[[sync_group]]");
        head(&mut out, &g.head, place);
        line(&mut out, &format!("name = {}", string(&g.name)));
        line(&mut out, &format!("instances = {}", list(&g.instances)));
        notify(&mut out, &g.notify);
    }
    out
}

/// `# from FILE:LINE: TITLE`, then the section's notes.
fn head(out: &mut String, head: &Head, place: &dyn Fn(Origin) -> Option<Place>) {
    let from = place(head.origin).map_or_else(String::new, |p| format!("{p}: "));
    out.push_str(&format!(
        "# from {}\n",
        printable(&format!("{from}{}", head.title), 10_000)
    ));
    notes(out, &head.notes, place);
}

/// `notes` in file order.
fn notes(out: &mut String, notes: &[RawNote], place: &dyn Fn(Origin) -> Option<Place>) {
    let mut sorted: Vec<&RawNote> = notes.iter().collect();
    sorted.sort_by_key(|n| n.origin);
    for n in sorted {
        note(out, n, place);
    }
}

fn note(out: &mut String, n: &RawNote, place: &dyn Fn(Origin) -> Option<Place>) {
    let kind = match n.kind {
        NoteKind::NotCarried => "not carried",
        NoteKind::Note => "note",
    };
    let at = n
        .origin
        .and_then(place)
        .map_or_else(String::new, |p| format!("{p}: "));
    let _ = writeln!(
        out,
        "# {kind}: {}",
        printable(&format!("{at}{}", n.text), 10_000)
    );
}

/// The `track` list, one entry per line when there are several.
fn track(entries: &[TrackOut]) -> String {
    let one = |t: &TrackOut| {
        format!(
            "{{ {} = {}, weight = {} }}",
            t.kind,
            string(&t.name),
            t.weight
        )
    };
    match entries {
        [t] => format!("track = [{}]\n", one(t)),
        _ => {
            let mut s = "track = [\n".to_owned();
            for t in entries {
                let _ = writeln!(s, "    {},", one(t));
            }
            s.push_str("]\n");
            s
        }
    }
}

fn notify(out: &mut String, n: &NotifyOut) {
    for (key, argv) in NOTIFY_KEYS.iter().zip(&n.commands) {
        if let Some(argv) = argv {
            let _ = writeln!(out, "{key} = {}", list(argv));
        }
    }
}

/// A TOML basic string.
pub(super) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of strings, on one line.
fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(string("x\u{1}\u{7f}\n"), "\"x\\u0001\\u007F\\n\"");
        let parsed: toml::Table = toml::from_str(&format!("k = {}", string("é\u{1}\"\\"))).unwrap();
        assert_eq!(parsed["k"].as_str(), Some("é\u{1}\"\\"));
    }
}
