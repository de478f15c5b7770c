//! Prometheus metrics: the agent's [`Status`] (the report `vipd status` prints) rendered in the
//! Prometheus text exposition format (version 0.0.4) by `prometheus-client`. Nothing here
//! counts on its own: every value comes from the one snapshot the event loop builds, so
//! `vipd status` and a scrape can never disagree. The HTTP side is [`metrics_server`].
//!
//! [`metrics_server`]: crate::agent::metrics_server

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::agent::control::{InstanceStatus, Status};
use crate::protocol::fsm::State;
use crate::protocol::track::Kind;

/// The `Content-Type` of what [`render`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every series name starts with this and `_`.
const PREFIX: &str = "vipd";

const NO_LABELS: [(&str, &str); 0] = [];

/// The states `vipd_instance_state` has a series for, as status names them.
const STATES: [State; 4] = [State::Init, State::Backup, State::Master, State::Fault];
/// A sync group's state: one its members agree on, or `mixed`.
const GROUP_STATES: [&str; 5] = ["init", "backup", "master", "fault", "mixed"];

/// The exposition of `status`.
pub fn render(status: Status) -> String {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(StatusCollector(status)));
    let mut out = String::new();
    // Writing into a String cannot fail, and the collector itself never fails.
    if let Err(fmt::Error) =
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
    {
        out.clear();
    }
    out
}

/// One snapshot, encoded as constant metrics on each scrape.
#[derive(Debug)]
struct StatusCollector(Status);

impl Collector for StatusCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let s = &self.0;
        let mut out = Families(&mut encoder);

        out.gauge(
            "build_info",
            "The vipd version running; always 1.",
            [([("version", env!("CARGO_PKG_VERSION"))], 1)],
        )?;
        out.gauge(
            "router_info",
            "The router_id of this host (global.router_id); always 1.",
            [([("router_id", s.router_id.as_str())], 1)],
        )?;

        let instances = &s.instances;
        let by_instance = |value: fn(&InstanceStatus) -> i64| {
            instances
                .iter()
                .map(move |i| ([("instance", i.name.as_str())], value(i)))
        };
        let counted = |value: fn(&InstanceStatus) -> u64| {
            instances
                .iter()
                .map(move |i| ([("instance", i.name.as_str())], value(i)))
        };
        out.gauge(
            "instance_state",
            "1 for the state the instance is in (init, backup, master, fault), 0 for the others.",
            instances.iter().flat_map(|i| {
                STATES.map(|state| {
                    (
                        [("instance", i.name.as_str()), ("state", state.name())],
                        i64::from(i.state == state.name()),
                    )
                })
            }),
        )?;
        out.gauge(
            "instance_info",
            "What each instance is: its VRID, VRRP version, interface and address family; always 1.",
            instances.iter().map(|i| {
                let names = [
                    ("instance", i.name.as_str()),
                    ("interface", i.interface.as_str()),
                    ("family", i.family.as_str()),
                ];
                ((names, [("vrid", i.vrid), ("version", i.version)]), 1)
            }),
        )?;
        out.gauge(
            "instance_priority",
            "The configured priority (1-255; 255 is the address owner).",
            by_instance(|i| i64::from(i.priority)),
        )?;
        out.gauge(
            "instance_effective_priority",
            "The priority the instance advertises: the configured one moved by tracker weights.",
            by_instance(|i| i64::from(i.effective_priority)),
        )?;
        out.gauge(
            "instance_fault_cause",
            "1 for each reason an instance is in fault: interface, track:NAME, sync_group:NAME.",
            instances.iter().flat_map(|i| {
                i.fault_causes.iter().map(|cause| {
                    (
                        [("instance", i.name.as_str()), ("cause", cause.as_str())],
                        1,
                    )
                })
            }),
        )?;
        out.float_gauge(
            "advert_interval_seconds",
            "The configured advertisement interval.",
            instances.iter().map(|i| {
                (
                    [("instance", i.name.as_str())],
                    i.advert_interval_ms as f64 / 1000.0,
                )
            }),
        )?;
        out.float_gauge(
            "master_advert_interval_seconds",
            "The advertisement interval in use: the master's, as learnt from its adverts.",
            instances.iter().map(|i| {
                (
                    [("instance", i.name.as_str())],
                    i.master_advert_interval_ms as f64 / 1000.0,
                )
            }),
        )?;
        out.counter(
            "adverts_received",
            "Valid adverts received for the instance.",
            counted(|i| i.adverts_received),
        )?;
        out.counter(
            "adverts_sent",
            "Adverts sent (one per destination).",
            counted(|i| i.adverts_sent),
        )?;
        out.counter(
            "advert_send_errors",
            "Adverts the kernel refused to send: while they fail, backups take this master for dead.",
            counted(|i| i.send_errors),
        )?;
        out.gauge(
            "advert_send_failing",
            "1 while the last advert could not be sent (vipd status shows the error), else 0.",
            by_instance(|i| i64::from(i.send_error.is_some())),
        )?;
        out.counter(
            "state_changes",
            "State changes of the instance since the agent started.",
            counted(|i| i.transitions),
        )?;
        out.counter(
            "master_conflicts",
            "Adverts from a worse master heard while master, past a handover: a split brain healing.",
            counted(|i| i.master_conflicts),
        )?;
        out.counter(
            "local_source_adverts",
            "Adverts for this VRID from one of this host's own addresses: another VRRP agent runs here.",
            counted(|i| i.local_source_adverts),
        )?;
        out.counter(
            "address_list_mismatches",
            "Adverts whose address list differs from the configured one (accepted): the peers' configurations differ.",
            counted(|i| i.address_list_mismatches),
        )?;
        out.gauge(
            "notify_waiting",
            "State changes waiting for the instance's notify commands.",
            by_instance(|i| i.notify_waiting.try_into().unwrap_or(i64::MAX)),
        )?;
        out.counter(
            "notify_dropped",
            "State changes dropped from a full notify queue (the oldest waiting go first).",
            counted(|i| i.notify_dropped),
        )?;

        out.counter(
            "receive_packets",
            "VRRP packets read from the socket of an interface and family, valid or not.",
            s.receive.iter().map(|r| {
                (
                    [
                        ("interface", r.interface.as_str()),
                        ("family", r.family.as_str()),
                    ],
                    r.received,
                )
            }),
        )?;
        out.counter(
            "receive_dropped",
            "VRRP packets dropped on receive, by the first check they failed (RFC 9568 order).",
            s.receive.iter().flat_map(|r| {
                r.drops.iter().map(|(reason, &n)| {
                    (
                        [
                            ("interface", r.interface.as_str()),
                            ("family", r.family.as_str()),
                            ("reason", reason.as_str()),
                        ],
                        n,
                    )
                })
            }),
        )?;

        out.gauge(
            "track_healthy",
            "1 while the tracked object is healthy, 0 while it fails.",
            s.tracks.iter().map(|t| {
                (
                    [("track", t.name.as_str()), ("kind", t.kind.name())],
                    i64::from(t.verdict.healthy),
                )
            }),
        )?;
        out.gauge(
            "track_consecutive",
            "Results of the current kind in a row (successes while healthy, failures while failing).",
            s.tracks.iter().map(|t| {
                (
                    [("track", t.name.as_str()), ("kind", t.kind.name())],
                    i64::from(t.verdict.consecutive),
                )
            }),
        )?;
        out.gauge(
            "track_file_value",
            "The integer a track file holds (a missing or empty file is 0).",
            s.tracks
                .iter()
                .filter(|t| t.kind == Kind::File)
                .map(|t| ([("track", t.name.as_str())], t.verdict.value)),
        )?;

        out.gauge(
            "sync_group_state",
            "1 for the state the members of the sync group agree on (or mixed), 0 for the others.",
            s.sync_groups.iter().flat_map(|g| {
                GROUP_STATES.map(|state| {
                    (
                        [("group", g.name.as_str()), ("state", state)],
                        i64::from(g.state == state),
                    )
                })
            }),
        )?;

        let events = &s.events;
        out.gauge(
            "events_subscribers",
            "vipd events subscribers connected now.",
            [(NO_LABELS, gauge_of(events.subscribers))],
        )?;
        out.counter(
            "events_published",
            "Events published to vipd events subscribers since start.",
            [(NO_LABELS, events.published)],
        )?;
        out.counter(
            "events_dropped_subscribers",
            "vipd events subscribers cut off because they did not keep up.",
            [(NO_LABELS, events.dropped_subscribers)],
        )?;
        Ok(())
    }
}

fn gauge_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Writes metric families: a family with no series is left out altogether.
struct Families<'e, 'a>(&'e mut DescriptorEncoder<'a>);

impl Families<'_, '_> {
    fn family<L: EncodeLabelSet, M: EncodeMetric>(
        &mut self,
        name: &str,
        help: &str,
        series: impl IntoIterator<Item = (L, M)>,
    ) -> fmt::Result {
        let mut series = series.into_iter().peekable();
        let Some((_, first)) = series.peek() else {
            return Ok(());
        };
        let kind = first.metric_type();
        let mut family = self.0.encode_descriptor(name, help, None, kind)?;
        for (labels, metric) in series {
            metric.encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }

    fn gauge<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        series: impl IntoIterator<Item = (L, i64)>,
    ) -> fmt::Result {
        let series = series.into_iter().map(|(l, v)| (l, ConstGauge::new(v)));
        self.family(name, help, series)
    }

    fn float_gauge<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        series: impl IntoIterator<Item = (L, f64)>,
    ) -> fmt::Result {
        let series = series.into_iter().map(|(l, v)| (l, ConstGauge::new(v)));
        self.family(name, help, series)
    }

    /// `name` without `_total`: the encoder appends it to counters.
    fn counter<L: EncodeLabelSet>(
        &mut self,
        name: &str,
        help: &str,
        series: impl IntoIterator<Item = (L, u64)>,
    ) -> fmt::Result {
        let series = series.into_iter().map(|(l, v)| (l, ConstCounter::new(v)));
        self.family(name, help, series)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::agent::control::{InstanceStatus, ReceiveStatus};
    use crate::agent::events::EventStats;
    use crate::protocol::node::{GroupReport, TrackReport};
    use crate::protocol::track::{CheckResult, Verdict};

    /// An instance as status reports it, with distinct counters.
    pub(crate) fn instance(name: &str, state: &str, seed: u64) -> InstanceStatus {
        InstanceStatus {
            name: name.into(),
            state: state.into(),
            priority: 150,
            effective_priority: 90,
            vrid: 51,
            version: 3,
            interface: "eth0".into(),
            family: "ipv4".into(),
            master_address: Some("10.0.0.1".into()),
            virtual_addresses: vec!["10.0.0.50/24".into()],
            advert_interval_ms: 10,
            master_advert_interval_ms: 1000,
            adverts_received: seed + 1,
            adverts_sent: seed + 2,
            send_errors: seed + 3,
            send_error: None,
            local_source_adverts: seed + 4,
            master_conflicts: seed + 5,
            notify_waiting: 2,
            notify_dropped: seed + 6,
            fault_causes: Vec::new(),
            sync_group: None,
            address_list_mismatches: seed + 7,
            transitions: seed + 8,
        }
    }

    pub(crate) fn sample() -> Status {
        let mut db = instance("db", "fault", 100);
        db.fault_causes = vec!["interface".into(), "track:drain".into()];
        db.send_error = Some("Operation not permitted (os error 1)".into());
        db.sync_group = Some("edge".into());
        db.family = "ipv6".into();
        db.version = 3;
        let drops: BTreeMap<String, u64> = crate::protocol::packet::DropKind::ALL
            .iter()
            .enumerate()
            .map(|(n, k)| (k.name().to_owned(), n as u64 * 10))
            .collect();
        let failed = Verdict {
            healthy: false,
            consecutive: 3,
            value: 0,
            last: Some(CheckResult::Failed {
                reason: "exit status 1".into(),
            }),
        };
        let file = Verdict {
            healthy: true,
            consecutive: 1,
            value: -5,
            last: Some(CheckResult::Value { value: -5 }),
        };
        Status {
            router_id: "lb\"1\\".into(),
            instances: vec![instance("web", "master", 0), db],
            receive: vec![ReceiveStatus {
                interface: "eth0".into(),
                family: "ipv4".into(),
                received: 12345,
                drops,
            }],
            tracks: vec![
                TrackReport {
                    name: "haproxy".into(),
                    kind: Kind::Script,
                    verdict: failed,
                },
                TrackReport {
                    name: "drain".into(),
                    kind: Kind::File,
                    verdict: file,
                },
            ],
            sync_groups: vec![GroupReport {
                name: "edge".into(),
                members: vec!["db".into()],
                state: "fault".into(),
            }],
            events: EventStats {
                subscribers: 2,
                published: 77,
                dropped_subscribers: 1,
            },
        }
    }

    /// `series{labels}` -> value, for every sample line.
    fn samples(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (series, value) = l.rsplit_once(' ').expect("a sample line");
                (series.to_owned(), value.to_owned())
            })
            .collect()
    }

    #[track_caller]
    fn has(samples: &BTreeMap<String, String>, series: &str, value: &str) {
        assert_eq!(
            samples.get(series).map(String::as_str),
            Some(value),
            "{series}"
        );
    }

    #[test]
    fn every_status_field_an_operator_alerts_on_is_a_series() {
        let text = render(sample());
        let s = samples(&text);
        has(&s, "vipd_build_info{version=\"0.1.0\"}", "1");
        has(&s, "vipd_router_info{router_id=\"lb\\\"1\\\\\"}", "1");
        for (state, value) in [
            ("init", "0"),
            ("backup", "0"),
            ("master", "1"),
            ("fault", "0"),
        ] {
            has(
                &s,
                &format!("vipd_instance_state{{instance=\"web\",state=\"{state}\"}}"),
                value,
            );
        }
        has(
            &s,
            "vipd_instance_state{instance=\"db\",state=\"fault\"}",
            "1",
        );
        has(
            &s,
            "vipd_instance_state{instance=\"db\",state=\"master\"}",
            "0",
        );
        has(
            &s,
            "vipd_instance_info{instance=\"db\",interface=\"eth0\",family=\"ipv6\",vrid=\"51\",version=\"3\"}",
            "1",
        );
        has(&s, "vipd_instance_priority{instance=\"web\"}", "150");
        has(
            &s,
            "vipd_instance_effective_priority{instance=\"web\"}",
            "90",
        );
        has(
            &s,
            "vipd_instance_fault_cause{instance=\"db\",cause=\"interface\"}",
            "1",
        );
        has(
            &s,
            "vipd_instance_fault_cause{instance=\"db\",cause=\"track:drain\"}",
            "1",
        );
        has(&s, "vipd_advert_interval_seconds{instance=\"web\"}", "0.01");
        has(
            &s,
            "vipd_master_advert_interval_seconds{instance=\"web\"}",
            "1.0",
        );
        for (name, offset) in [
            ("adverts_received_total", 1),
            ("adverts_sent_total", 2),
            ("advert_send_errors_total", 3),
            ("local_source_adverts_total", 4),
            ("master_conflicts_total", 5),
            ("notify_dropped_total", 6),
            ("address_list_mismatches_total", 7),
            ("state_changes_total", 8),
        ] {
            for (instance, seed) in [("web", 0), ("db", 100)] {
                has(
                    &s,
                    &format!("vipd_{name}{{instance=\"{instance}\"}}"),
                    &(seed + offset).to_string(),
                );
            }
        }
        has(&s, "vipd_advert_send_failing{instance=\"web\"}", "0");
        has(&s, "vipd_advert_send_failing{instance=\"db\"}", "1");
        has(&s, "vipd_notify_waiting{instance=\"db\"}", "2");
        has(
            &s,
            "vipd_receive_packets_total{interface=\"eth0\",family=\"ipv4\"}",
            "12345",
        );
        for (n, kind) in crate::protocol::packet::DropKind::ALL.iter().enumerate() {
            has(
                &s,
                &format!(
                    "vipd_receive_dropped_total{{interface=\"eth0\",family=\"ipv4\",reason=\"{}\"}}",
                    kind.name()
                ),
                &(n * 10).to_string(),
            );
        }
        has(
            &s,
            "vipd_track_healthy{track=\"haproxy\",kind=\"script\"}",
            "0",
        );
        has(&s, "vipd_track_healthy{track=\"drain\",kind=\"file\"}", "1");
        has(
            &s,
            "vipd_track_consecutive{track=\"haproxy\",kind=\"script\"}",
            "3",
        );
        has(&s, "vipd_track_file_value{track=\"drain\"}", "-5");
        assert!(
            !text.contains("vipd_track_file_value{track=\"haproxy\""),
            "{text}"
        );
        has(
            &s,
            "vipd_sync_group_state{group=\"edge\",state=\"fault\"}",
            "1",
        );
        has(
            &s,
            "vipd_sync_group_state{group=\"edge\",state=\"mixed\"}",
            "0",
        );
        has(&s, "vipd_events_subscribers", "2");
        has(&s, "vipd_events_published_total", "77");
        has(&s, "vipd_events_dropped_subscribers_total", "1");
    }

    #[test]
    fn each_family_has_help_and_type_once_before_its_samples() {
        let text = render(sample());
        let mut typed = BTreeMap::new();
        let mut helped = BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("a help text");
                assert!(!help.is_empty() && helped.insert(name.to_owned()), "{line}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("a type");
                assert!(helped.contains(name), "TYPE before HELP: {line}");
                assert!(
                    typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                    "{line}"
                );
            } else {
                let name = line.split(['{', ' ']).next().expect("a name");
                let kind = typed.get(name).unwrap_or_else(|| panic!("untyped: {line}"));
                assert!(name.starts_with("vipd_"), "{line}");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
            }
        }
        assert_eq!(helped.len(), typed.len());
        assert_eq!(typed.len(), 28, "{typed:#?}");
    }

    #[test]
    fn an_agent_without_instances_tracks_or_groups_exposes_no_empty_family() {
        let text = render(Status {
            router_id: "lb1".into(),
            ..Status::default()
        });
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .collect();
        assert_eq!(
            names,
            [
                "vipd_build_info gauge",
                "vipd_router_info gauge",
                "vipd_events_subscribers gauge",
                "vipd_events_published_total counter",
                "vipd_events_dropped_subscribers_total counter",
            ]
        );
    }

    /// `promtool check metrics` on the rendering, where promtool is installed (the netns
    /// test t_metrics runs it on a live agent's answer in any case).
    #[test]
    fn promtool_finds_no_problem() {
        let Ok(mut child) = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("promtool is not installed: skipped");
            return;
        };
        let text = render(sample());
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin.write_all(text.as_bytes()).expect("write to promtool");
        }
        let out = child.wait_with_output().expect("promtool ran");
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
