//! The Debian package's generated files and the facts it relies on.
//!
//! The man page and the shell completions under `packaging/` are generated from the command
//! line (`vipd::cli::Cli`) and committed, so that building the package needs no generator and
//! no build script runs on every build. This test regenerates them in memory and fails when
//! the committed copies differ, naming the command that rewrites them:
//!
//! ```sh
//! VIPD_REGENERATE=1 cargo test --test packaging
//! ```

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

const REGENERATE: &str = "VIPD_REGENERATE=1 cargo test --test packaging";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The command line as the man page shows it: no `help` subcommand and no `-h` on each
/// command (OPTIONS says every command takes it).
fn man_command() -> clap::Command {
    let mut cmd = vipd::cli::Cli::command()
        .disable_help_subcommand(true)
        .subcommand_value_name("COMMAND")
        .mut_subcommands(|sub| sub.disable_help_flag(true));
    cmd.build();
    cmd
}

/// Renders one section with clap_mangen, its `.SH` heading turned into a paragraph break, so
/// that a command's description and options go under one `.SS` heading of the single page.
fn section_body(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    render(&mut out).expect("render a man page section");
    String::from_utf8(out)
        .expect("clap_mangen writes UTF-8")
        .lines()
        .map(|line| {
            if line.starts_with(".SH ") {
                ".PP\n".to_owned()
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// A command's synopsis with its value names (`vipd run [-c|--config FILE]`), which
/// clap_mangen's synopsis leaves out.
fn synopsis(roff: &mut Roff, cmd: &clap::Command) {
    let mut line = vec![bold(cmd.get_bin_name().expect("built"))];
    for arg in cmd.get_arguments().filter(|arg| !arg.is_hide_set()) {
        let optional = !arg.is_required_set();
        line.push(roman(if optional { " [" } else { " " }));
        let mut names = Vec::new();
        names.extend(arg.get_short().map(|short| format!("-{short}")));
        names.extend(arg.get_long().map(|long| format!("--{long}")));
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                line.push(roman("|"));
            }
            line.push(bold(name));
        }
        if arg.get_num_args().expect("built").takes_values() {
            let value = arg.get_value_names().map_or_else(
                || arg.get_id().as_str().to_uppercase(),
                |names| names.join(" "),
            );
            if !arg.is_positional() {
                line.push(roman(" "));
            }
            line.push(italic(value));
        }
        if optional {
            line.push(roman("]"));
        }
    }
    roff.text(line);
}

/// A section of definitions: `.TP` with a bold term, then its text.
fn definitions(roff: &mut Roff, heading: &str, items: &[(&str, &str)]) {
    roff.control("SH", [heading]);
    for (term, text) in items {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*text)]);
    }
}

fn man_page() -> String {
    let cmd = man_command();
    let man = Man::new(cmd.clone())
        .section("8")
        .date(changelog_date())
        .manual("System Administration");
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    man.render_synopsis_section(&mut page).unwrap();

    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([roman(
        "vipd floats virtual IP addresses between Linux hosts with VRRP: version 3 \
         (RFC 9568) over IPv4 and IPv6, and version 2 (RFC 3768) over IPv4. Every host runs \
         it; for each virtual router the hosts elect one master, which adds the virtual \
         addresses and announces them with gratuitous ARP or unsolicited neighbour \
         advertisements. When the master stops advertising, the best backup takes over. \
         Tracked scripts, files, interfaces and processes change a host's priority.",
    )]);
    roff.control("PP", []);
    roff.text([
        roman("The configuration is a TOML file, "),
        bold("/etc/vipd/vipd.toml"),
        roman(" unless "),
        bold("-c"),
        roman(" names another. Unknown keys are errors. "),
        bold("vipd check"),
        roman(
            " validates a file without running anything. Every key is explained in the \
             commented examples and in the README under ",
        ),
        italic("/usr/share/doc/vipd"),
        roman("."),
    ]);
    roff.control("PP", []);
    roff.text([
        roman("As a service, "),
        bold("vipd.service"),
        roman(" runs "),
        bold("vipd run"),
        roman(
            " under systemd with only the CAP_NET_RAW and CAP_NET_ADMIN capabilities, \
             reports readiness and pings the watchdog. The package enables it but does not \
             start it: edit the configuration, then ",
        ),
        bold("systemctl start vipd"),
        roman("."),
    ]);
    roff.to_writer(&mut page).unwrap();

    man.render_options_section(&mut page).unwrap();
    page.extend_from_slice(b".PP\nEvery command also takes -h or --help.\n");

    page.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_bin_name().expect("built").to_owned();
        let sub_man = Man::new(sub.clone());
        let mut roff = Roff::new();
        roff.control("SS", [name.as_str()]);
        synopsis(&mut roff, sub);
        roff.to_writer(&mut page).unwrap();
        for body in [
            section_body(|w| sub_man.render_description_section(w)),
            section_body(|w| sub_man.render_options_section(w)),
        ] {
            page.extend_from_slice(body.as_bytes());
        }
    }

    let mut roff = Roff::new();
    definitions(
        &mut roff,
        "EXIT STATUS",
        &[
            ("0", "Success."),
            (
                "1",
                "An invalid configuration, or a runtime error that stops the agent.",
            ),
            ("2", "A usage error."),
        ],
    );
    definitions(
        &mut roff,
        "SIGNALS",
        &[
            (
                "SIGTERM, SIGINT",
                "Stop the agent: every master sends one advert with priority 0, so that a \
                 backup takes over at once, removes its addresses, and the agent exits 0.",
            ),
            (
                "SIGHUP",
                "Reload the configuration file, as vipd reload does; the outcome is logged. A \
                 file with any error changes nothing.",
            ),
            ("SIGUSR1", "Log the status of every instance."),
            ("SIGUSR2", "Log every counter."),
        ],
    );
    definitions(
        &mut roff,
        "ENVIRONMENT",
        &[
            (
                "RUST_LOG",
                "The log filter when --log-level is not given; info by default.",
            ),
            (
                "NOTIFY_SOCKET, WATCHDOG_USEC",
                "Set by systemd: vipd reports readiness, status and stopping there, and \
                 pings the watchdog from its event loop.",
            ),
            (
                "JOURNAL_STREAM",
                "Set by systemd when stderr goes to the journal: each log line then starts \
                 with its syslog priority, and the journal adds the time.",
            ),
        ],
    );
    definitions(
        &mut roff,
        "FILES",
        &[
            ("/etc/vipd/vipd.toml", "The configuration file."),
            (
                "/run/vipd/vipd.sock",
                "The control socket that vipd status and vipd events use (global.control_socket \
                 changes it). /run/vipd also holds its lock file.",
            ),
            (
                "/usr/share/doc/vipd/examples/",
                "Example configurations, every key commented.",
            ),
            ("/usr/lib/systemd/system/vipd.service", "The systemd unit."),
        ],
    );
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        bold("systemctl"),
        roman("(1), "),
        bold("journalctl"),
        roman("(1), "),
        bold("systemd.service"),
        roman("(5), "),
        bold("keepalived"),
        roman("(8), and "),
        italic("/usr/share/doc/vipd/README.md"),
        roman("."),
    ]);
    roff.to_writer(&mut page).unwrap();

    // Each piece rendered on its own repeats the definition of the apostrophe string: keep
    // the first.
    let page = String::from_utf8(page).expect("the man page is UTF-8");
    let mut seen = std::collections::HashSet::new();
    page.lines()
        .filter(|line| !line.contains(".ds Aq ") || seen.insert(*line))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// The date of the changelog's latest entry, as YYYY-MM-DD: the man page's date changes with
/// the package's version, not with the day it was generated.
fn changelog_date() -> String {
    let text = std::fs::read_to_string(root().join("packaging/debian/changelog"))
        .expect("read packaging/debian/changelog");
    let trailer = text
        .lines()
        .find(|line| line.starts_with(" -- "))
        .expect("the changelog's latest entry has a ` -- NAME <EMAIL>  DATE` line");
    // " -- NAME <EMAIL>  Tue, 01 Dec 2026 02:36:44 +0000"
    let date = trailer
        .rsplit_once(">  ")
        .expect("two spaces before the date")
        .1;
    let fields: Vec<&str> = date.split_whitespace().collect();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| fields.get(2) == Some(m))
        .unwrap_or_else(|| panic!("no month in the changelog date `{date}`"));
    let day: u32 = fields[1].parse().expect("the changelog date's day");
    format!("{}-{:02}-{day:02}", fields[3], month + 1)
}

fn completion(shell: Shell) -> String {
    let mut cmd = vipd::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "vipd", &mut out);
    String::from_utf8(out).expect("completions are UTF-8")
}

/// Every generated file: its path under the repository and its current content.
fn generated() -> Vec<(&'static str, String)> {
    vec![
        ("packaging/man/vipd.8", man_page()),
        ("packaging/completions/vipd.bash", completion(Shell::Bash)),
        ("packaging/completions/_vipd", completion(Shell::Zsh)),
        ("packaging/completions/vipd.fish", completion(Shell::Fish)),
    ]
}

#[test]
fn generated_files_are_current() {
    let regenerate = std::env::var_os("VIPD_REGENERATE").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (path, text) in generated() {
        let file: PathBuf = root().join(path);
        if std::fs::read_to_string(&file).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if regenerate {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, text).unwrap_or_else(|e| panic!("write {path}: {e}"));
            eprintln!("rewrote {path}");
        } else {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the command line in src/cli.rs: {}\n\
         Regenerate them and commit the result:\n    {REGENERATE}",
        stale.join(", ")
    );
}

/// The Debian version's upstream part (before the revision) is the crate's version, so a
/// version bump in Cargo.toml needs a changelog entry too.
#[test]
fn changelog_names_the_crate_version() {
    let path = root().join("packaging/debian/changelog");
    let text = std::fs::read_to_string(&path).expect("read packaging/debian/changelog");
    let first = text.lines().next().unwrap_or_default();
    let version = first
        .strip_prefix("vipd (")
        .and_then(|rest| rest.split_once(')'))
        .map(|(version, _)| version)
        .unwrap_or_else(|| panic!("the changelog starts with `{first}`, not `vipd (VERSION)`"));
    let upstream = version
        .rsplit_once('-')
        .map_or(version, |(upstream, _)| upstream);
    assert_eq!(
        upstream,
        env!("CARGO_PKG_VERSION"),
        "packaging/debian/changelog's latest entry is for {version}: add an entry for {}-1 \
         (dch -v {}-1, or by hand in the same format)",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION"),
    );
}

/// The package puts the agent in /usr/sbin, and the unit it ships runs it from there.
#[test]
fn unit_runs_the_packaged_binary() {
    let manifest: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .expect("package.metadata.deb.assets");
    assert!(
        assets.iter().any(|asset| {
            asset.as_array().is_some_and(|a| {
                a.first().and_then(|v| v.as_str()) == Some("target/release/vipd")
                    && a.get(1).and_then(|v| v.as_str()) == Some("usr/sbin/")
            })
        }),
        "Cargo.toml must package target/release/vipd into usr/sbin/"
    );

    let unit = std::fs::read_to_string(root().join("systemd/vipd.service")).unwrap();
    let exec: Vec<&str> = unit
        .lines()
        .filter(|line| line.starts_with("Exec"))
        .collect();
    for key in ["ExecStartPre=", "ExecStart=", "ExecReload="] {
        assert!(
            exec.iter().any(|line| line.starts_with(key)),
            "systemd/vipd.service has no {key} line"
        );
    }
    for line in exec {
        let (_, command) = line.split_once('=').unwrap();
        assert!(
            command.starts_with("/usr/sbin/vipd "),
            "systemd/vipd.service: `{line}` must run /usr/sbin/vipd, where the package puts it"
        );
    }
}
