//! The fleet check: the configurations of several hosts (one file each) compared with each
//! other. What hurts most is between hosts, not inside one file: two routers of one VRID that
//! disagree on the interval, the addresses or the password, two owners, a priority tie,
//! unicast peers that do not name each other.
//!
//! A virtual router is a VRID and a family on an interface name, whatever each host calls
//! its instance.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use toml::de::DeTable;

use super::errors::Sink;
use super::{Config, InstanceConfig, Router};

/// One host's configuration, with where its instances are written.
pub struct HostFile {
    pub path: PathBuf,
    pub config: Config,
    /// The line of each `[[instance]]`, by position (see [`instance_lines`]).
    pub lines: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem between hosts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// `a.toml:12 and b.toml:30`, or a list of places.
    pub places: String,
    /// `vrid 51 ipv4 on eth0`.
    pub router: String,
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{word}: {}: {}: {}",
            self.places, self.router, self.problem
        )
    }
}

/// The line where each `[[instance]]` table of `text` starts, by position; 0 where it
/// cannot be told (the file did not parse).
pub fn instance_lines(text: &str) -> Vec<usize> {
    let Ok(doc) = DeTable::parse(text) else {
        return Vec::new();
    };
    let sink = Sink::new(text, std::path::Path::new(""));
    let Some(list) = doc.get_ref().get("instance") else {
        return Vec::new();
    };
    let Some(tables) = list.get_ref().as_array() else {
        return Vec::new();
    };
    tables
        .iter()
        .map(|t| sink.line_col(t.span().start).map_or(0, |(line, _)| line))
        .collect()
}

/// One host's instance of a virtual router.
struct Member<'a> {
    host: &'a HostFile,
    instance: &'a InstanceConfig,
    line: usize,
}

impl Member<'_> {
    fn place(&self) -> String {
        format!("{}:{}", self.host.path.display(), self.line)
    }
}

/// Compare the hosts' files. Each file is valid on its own (checked before).
pub fn check(hosts: &[HostFile]) -> Vec<Finding> {
    let mut routers: Vec<(Router, Vec<Member<'_>>)> = Vec::new();
    for host in hosts {
        for (i, instance) in host.config.instances.iter().enumerate() {
            let key = instance.router();
            let member = Member {
                host,
                instance,
                line: host.lines.get(i).copied().unwrap_or(0),
            };
            match routers.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(member),
                None => routers.push((key, vec![member])),
            }
        }
    }
    let mut findings = Vec::new();
    for (router, members) in &routers {
        let router = router.to_string();
        compare_settings(&router, members, &mut findings);
        compare_priorities(&router, members, &mut findings);
        compare_peers(&router, members, &mut findings);
    }
    compare_groups(hosts, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

/// A sync group moves its members together, so two hosts' groups over the same routers must
/// rank the hosts the same way on every member. Crossed (a better on one LAN, b on another)
/// or level (a tie on one), each host keeps losing one LAN to the other and the group never
/// settles where the priorities say.
fn compare_groups(hosts: &[HostFile], out: &mut Vec<Finding>) {
    for (x, a) in hosts.iter().enumerate() {
        for b in &hosts[x + 1..] {
            for group in &a.config.sync_groups {
                let members = group
                    .instances
                    .iter()
                    .filter_map(|n| a.config.instances.iter().find(|i| &i.name == n));
                let mut better = Vec::new();
                let mut worse = Vec::new();
                let mut level = Vec::new();
                for ia in members {
                    let router = ia.router();
                    let Some(ib) = b.config.instances.iter().find(|i| i.router() == router) else {
                        continue;
                    };
                    let router = router.to_string();
                    match ia.priority.cmp(&ib.priority) {
                        std::cmp::Ordering::Greater => better.push(router),
                        std::cmp::Ordering::Less => worse.push(router),
                        std::cmp::Ordering::Equal => level.push(router),
                    }
                }
                let problem = if !better.is_empty() && !worse.is_empty() {
                    format!(
                        "crossed: {} is better on {} but {} on {}; after each failure the group                          flaps between them; give one host the higher priority on every member",
                        a.path.display(),
                        better.join(", "),
                        b.path.display(),
                        worse.join(", ")
                    )
                } else if !level.is_empty() && better.len() + worse.len() > 0 {
                    format!(
                        "equal priorities on {} but not on the other members: the tie is decided                          by addresses, so the group may prefer another host there",
                        level.join(", ")
                    )
                } else {
                    continue;
                };
                out.push(Finding {
                    severity: Severity::Warning,
                    places: format!("{} and {}", a.path.display(), b.path.display()),
                    router: format!("sync_group `{}`", group.name),
                    problem,
                });
            }
        }
    }
}

/// What every router of one VRID must agree on, or they do not hear each other (version,
/// authentication, checksum) or disagree about who is master (interval, addresses).
fn compare_settings(router: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    let Some((first, rest)) = members.split_first() else {
        return;
    };
    let addresses = |i: &InstanceConfig| -> BTreeSet<IpAddr> {
        i.virtual_addresses.iter().map(|v| v.addr).collect()
    };
    type Show = fn(&InstanceConfig) -> String;
    let settings: [(&str, Show); 4] = [
        ("version", |i| i.version.number().to_string()),
        ("advert_interval", |i| {
            format!("{}ms", i.advert_interval.to_duration().as_millis())
        }),
        ("auth_pass", |i| {
            i.auth_pass.map_or("(none)".to_owned(), |p| {
                String::from_utf8_lossy(&p)
                    .trim_end_matches('\0')
                    .to_owned()
            })
        }),
        ("checksum_ipv4_pseudo_header", |i| {
            i.checksum_ipv4_pseudo_header.to_string()
        }),
    ];
    for other in rest {
        let pair = format!("{} and {}", first.place(), other.place());
        for (key, show) in settings {
            let (a, b) = (show(first.instance), show(other.instance));
            if a != b {
                let (a, b) = if key == "auth_pass" {
                    ("one password".to_owned(), "another".to_owned())
                } else {
                    (a, b)
                };
                out.push(Finding {
                    severity: Severity::Error,
                    places: pair.clone(),
                    router: router.to_owned(),
                    problem: format!("{key} differs: {a} here, {b} there"),
                });
            }
        }
        let (a, b) = (addresses(first.instance), addresses(other.instance));
        if a != b {
            let list = |s: &BTreeSet<IpAddr>| {
                s.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            out.push(Finding {
                severity: Severity::Error,
                places: pair,
                router: router.to_owned(),
                problem: format!(
                    "virtual_addresses differ: [{}] here, [{}] there (a failover would move a \
                     different set of addresses)",
                    list(&a),
                    list(&b)
                ),
            });
        }
    }
}

fn compare_priorities(router: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    let owners: Vec<&Member<'_>> = members
        .iter()
        .filter(|m| m.instance.priority == 255)
        .collect();
    if owners.len() > 1 {
        out.push(Finding {
            severity: Severity::Error,
            places: places(&owners),
            router: router.to_owned(),
            problem: "more than one owner (priority 255): each would hold the addresses".into(),
        });
    }
    for (i, a) in members.iter().enumerate() {
        for b in &members[i + 1..] {
            let p = a.instance.priority;
            if p == b.instance.priority && p != 255 {
                out.push(Finding {
                    severity: Severity::Warning,
                    places: format!("{} and {}", a.place(), b.place()),
                    router: router.to_owned(),
                    problem: format!(
                        "equal priority {p}: the greater primary address wins, which the \
                         files do not show; give each host its own priority"
                    ),
                });
            }
        }
    }
}

/// With unicast, each host sends only to the peers it lists: every host must be named by the
/// others. A host's own address is the one the others name and it does not, so a host whose
/// list lacks more than one of the addresses the others name misses a peer.
fn compare_peers(router: &str, members: &[Member<'_>], out: &mut Vec<Finding>) {
    let unicast: Vec<&Member<'_>> = members
        .iter()
        .filter(|m| !m.instance.unicast_peers.is_empty())
        .collect();
    if unicast.is_empty() || members.len() < 2 {
        return;
    }
    if unicast.len() < members.len() {
        let multicast: Vec<&Member<'_>> = members
            .iter()
            .filter(|m| m.instance.unicast_peers.is_empty())
            .collect();
        out.push(Finding {
            severity: Severity::Warning,
            places: format!("{} and {}", places(&unicast), places(&multicast)),
            router: router.to_owned(),
            problem: "some hosts use unicast_peers and some multicast: the multicast ones \
                      never send to the unicast ones' addresses"
                .into(),
        });
        return;
    }
    let named: BTreeSet<IpAddr> = unicast
        .iter()
        .flat_map(|m| m.instance.unicast_peers.iter().copied())
        .collect();
    for m in &unicast {
        let own: BTreeSet<IpAddr> = m.instance.unicast_peers.iter().copied().collect();
        let missing: Vec<String> = named.difference(&own).map(ToString::to_string).collect();
        if missing.len() > 1 {
            out.push(Finding {
                severity: Severity::Warning,
                places: m.place(),
                router: router.to_owned(),
                problem: format!(
                    "unicast_peers lack {} of the addresses the other hosts name ({}): one of \
                     them may be this host, the rest never hear from it",
                    missing.len(),
                    missing.join(" ")
                ),
            });
        }
    }
    if unicast.len() > named.len() {
        out.push(Finding {
            severity: Severity::Warning,
            places: places(&unicast),
            router: router.to_owned(),
            problem: format!(
                "{} hosts but only {} peer addresses named among them: some host is named by \
                 nobody",
                unicast.len(),
                named.len()
            ),
        });
    }
}

fn places(members: &[&Member<'_>]) -> String {
    members
        .iter()
        .map(|m| m.place())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn host(name: &str, text: &str) -> HostFile {
        let path = PathBuf::from(format!("{name}.toml"));
        let config = match super::super::parse(text, Path::new(&path)) {
            Ok(c) => c,
            Err(e) => panic!("{name}: {e:?}"),
        };
        HostFile {
            lines: instance_lines(text),
            path,
            config,
        }
    }

    /// One instance: `extra` lines are added to its table.
    fn web(prio: u8, extra: &str) -> String {
        format!(
            "[global]\nrouter_id = \"x\"\n\n[[instance]]\nname = \"web\"\ninterface = \"eth0\"\n\
             vrid = 51\npriority = {prio}\nadvert_interval = \"100ms\"\n\
             virtual_addresses = [\"10.0.0.50/24\"]\n{extra}\n"
        )
    }

    fn problems(hosts: &[HostFile]) -> Vec<String> {
        check(hosts).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_matching_pair_has_nothing_to_say() {
        assert!(problems(&[host("a", &web(150, "")), host("b", &web(100, ""))]).is_empty());
    }

    #[test]
    fn instance_lines_point_at_each_table() {
        let text = format!(
            "{}\n{}",
            web(150, ""),
            web(100, "")
                .replace("[global]\nrouter_id = \"x\"\n", "")
                .replace("vrid = 51", "vrid = 52")
                .replace("\"web\"", "\"db\"")
        );
        let lines = instance_lines(&text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], 4);
        assert!(lines[1] > lines[0], "{lines:?}");
    }

    #[test]
    fn a_different_interval_is_an_error_naming_both_files_and_lines() {
        let slow = web(100, "").replace("100ms", "200ms");
        let p = problems(&[host("a", &web(150, "")), host("b", &slow)]);
        assert_eq!(
            p,
            vec![
                "error: a.toml:4 and b.toml:4: vrid 51 ipv4 on eth0: advert_interval differs: \
                 100ms here, 200ms there"
            ]
        );
    }

    #[test]
    fn version_addresses_password_and_checksum_must_agree() {
        let v2 = |prio, extra: &str| {
            web(prio, &format!("version = 2\n{extra}")).replace("\"100ms\"", "\"1s\"")
        };
        let a = host("a", &v2(150, "auth_pass = \"secret\""));
        let other = v2(100, "auth_pass = \"other\"").replace("10.0.0.50/24", "10.0.0.51/24");
        let p = problems(&[a, host("b", &other)]).join("\n");
        for word in ["auth_pass differs", "virtual_addresses differ"] {
            assert!(p.contains(word), "{word} missing from:\n{p}");
        }
        assert!(
            !p.contains("secret"),
            "a password must not be printed:\n{p}"
        );
        let p = problems(&[host("a", &web(150, "")), host("b", &v2(100, ""))]).join("\n");
        assert!(p.contains("version differs: 3 here, 2 there"), "{p}");
        let sum = web(100, "checksum_ipv4_pseudo_header = false");
        let p = problems(&[host("a", &web(150, "")), host("b", &sum)]).join("\n");
        assert!(p.contains("checksum_ipv4_pseudo_header differs"), "{p}");
    }

    #[test]
    fn two_owners_are_an_error_and_a_tie_a_warning() {
        let p = problems(&[host("a", &web(255, "")), host("b", &web(255, ""))]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("error: a.toml:4, b.toml:4:"), "{p:?}");
        assert!(p[0].contains("more than one owner"), "{p:?}");
        let p = problems(&[host("a", &web(100, "")), host("b", &web(100, ""))]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("warning:") && p[0].contains("equal priority 100"),
            "{p:?}"
        );
    }

    #[test]
    fn another_interface_or_family_is_another_router() {
        let slow = web(100, "").replace("100ms", "300ms");
        let elsewhere = slow.replace("\"eth0\"", "\"eth1\"");
        assert!(problems(&[host("a", &web(150, "")), host("b", &elsewhere)]).is_empty());
        let v6 = slow.replace("10.0.0.50/24", "fe80::50/64");
        assert!(problems(&[host("a", &web(150, "")), host("b", &v6)]).is_empty());
    }

    #[test]
    fn sync_groups_that_rank_the_hosts_differently_per_member_are_flagged() {
        let grouped = |web_prio: u8, db_prio: u8| {
            let db = web(db_prio, "")
                .replace("[global]\nrouter_id = \"x\"\n", "")
                .replace("\"web\"", "\"db\"")
                .replace("vrid = 51", "vrid = 52")
                .replace("10.0.0.50", "10.0.0.60");
            format!(
                "{}{db}\n[[sync_group]]\nname = \"g\"\ninstances = [\"web\", \"db\"]\n",
                web(web_prio, "")
            )
        };
        let p = problems(&[host("a", &grouped(150, 150)), host("b", &grouped(100, 100))]);
        assert!(p.is_empty(), "{p:?}");
        let p = problems(&[host("a", &grouped(150, 100)), host("b", &grouped(100, 150))]);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("sync_group `g`: crossed: a.toml is better on vrid 51"),
            "{p:?}"
        );
        let p = problems(&[host("a", &grouped(150, 100)), host("b", &grouped(100, 100))]);
        assert!(
            p.iter().any(|f| f.contains("equal priorities on vrid 52")),
            "{p:?}"
        );
    }

    #[test]
    fn unicast_peers_must_name_each_other() {
        let a = host("a", &web(150, "unicast_peers = [\"10.0.0.2\"]"));
        let b = host("b", &web(100, "unicast_peers = [\"10.0.0.1\"]"));
        assert!(problems(&[a, b]).is_empty());
        // The same full list everywhere is fine too (a host never sends to itself).
        let all = "unicast_peers = [\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\"]";
        let three = [
            host("a", &web(150, all)),
            host("b", &web(120, all)),
            host("c", &web(100, all)),
        ];
        assert!(problems(&three).is_empty());
        // c forgot b.
        let three = [
            host(
                "a",
                &web(150, "unicast_peers = [\"10.0.0.2\", \"10.0.0.3\"]"),
            ),
            host(
                "b",
                &web(120, "unicast_peers = [\"10.0.0.1\", \"10.0.0.3\"]"),
            ),
            host("c", &web(100, "unicast_peers = [\"10.0.0.1\"]")),
        ];
        let p = problems(&three);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("warning: c.toml:4:") && p[0].contains("lack 2"),
            "{p:?}"
        );
        let mixed = [
            host("a", &web(150, "unicast_peers = [\"10.0.0.2\"]")),
            host("b", &web(100, "")),
        ];
        let p = problems(&mixed);
        assert!(
            p.len() == 1 && p[0].contains("some hosts use unicast_peers"),
            "{p:?}"
        );
    }
}
