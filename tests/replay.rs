//! Conformance scripts: each `tests/replay/NAME.jsonl` drives one node (one host) built from
//! `tests/replay/NAME.toml`, input by input in virtual time, and checks what comes out. The
//! node's inputs, outputs and events are the serde types the agent uses, so a script is a
//! plain record of a behaviour. The harness plays the kernel: every `add_address` is answered
//! as created, and every `create_vmac` with a report of the new macvlan (empty, down, with
//! the MAC asked for, at a fresh index from 100 on).
//!
//! A line is one JSON object (lines starting with `//` are comments):
//! - `{"at": MS, ...}` first advances virtual time to MS, firing every timer due on the way,
//!   then does what the rest of the line says (nothing, if nothing):
//!   - `"link": {"interface": "eth0", "up": true, "addrs": ["10.0.0.2/24", "10.0.0.50/24 vipd"]}`
//!     reports an interface (index from `"index"`, default 2; an address with ` vipd` carries
//!     vipd's tag, ` secondary` is an IPv4 secondary; `"mac"` sets its MAC, default
//!     02:00:00:00:00:01); `"link": {"interface": "eth0"}` alone says it is gone;
//!   - `"advert": {"instance": "web", "src": "10.0.0.3", "priority": 200, "interval_ms": 100}`
//!     (the interval defaults to the instance's; `"mismatch": true` for another address list);
//!   - `"check": {"track": "NAME", "result": {"result": "passed"}}`;
//!   - `"reload": "OTHER.toml"` runs that configuration (beside the script) instead; names
//!     refer to the new configuration's instances and tracks from then on;
//!   - `"input": {...}` any other input, as serialised (`{"input": "start"}`).
//! - `{"expect": {...}}` checks, against the outputs since the previous expectation:
//!   - `"state": {"web": "master"}`, `"effective_priority": {"web": 90}`,
//!     `"fault_causes": {"web": ["track:haproxy"]}`;
//!   - `"output": {...}`: some output contains this (a recursive subset match);
//!   - `"outputs": [{...}, ...]`: outputs containing these, in this order;
//!   - `"no_output": {...}` or `[{...}, ...]`: no output contains this (any of these).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use vipd::config::{self, VirtualAddress};
use vipd::protocol::fsm::AdvertIn;
use vipd::protocol::link::{IfAddr, IfState};
use vipd::protocol::node::{Input, Node, Output, Spec};
use vipd::protocol::units::Centisecs;

struct Replay {
    script: PathBuf,
    node: Node,
    now: Duration,
    names: HashMap<String, usize>,
    tracks: HashMap<String, usize>,
    /// Outputs since the last expectation, as JSON.
    seen: Vec<Value>,
    /// The spec of a reload the node has not answered yet.
    reloading: Option<Spec>,
    /// The index the next macvlan gets.
    next_index: u32,
}

impl Replay {
    fn new(script: &Path) -> Replay {
        let toml = script.with_extension("toml");
        let config = config::load(&toml).unwrap_or_else(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}: {}", toml.display(), text.join("\n"))
        });
        let spec = Spec::from(&config);
        let names = (spec.instances.iter().enumerate())
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let tracks = (spec.tracks.iter().enumerate())
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        Replay {
            script: script.to_path_buf(),
            node: Node::new(spec),
            now: Duration::ZERO,
            names,
            tracks,
            seen: Vec::new(),
            reloading: None,
            next_index: 100,
        }
    }

    fn fail(&self, line: usize, what: String) -> ! {
        let seen: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        panic!(
            "{}:{line}: {what}\noutputs since the last expectation:\n  {}",
            self.script.display(),
            seen.join("\n  ")
        )
    }

    fn drain(&mut self) {
        while let Some(out) = self.node.poll_output() {
            if let Output::Reloaded { summary } = &out {
                let spec = self.reloading.take().expect("a reload under way");
                self.names = (spec.instances.iter().zip(&summary.slots.instances))
                    .map(|(s, &i)| (s.name.clone(), i))
                    .collect();
                self.tracks = (spec.tracks.iter().zip(&summary.slots.tracks))
                    .map(|(t, &i)| (t.name.clone(), i))
                    .collect();
            }
            if let Output::CreateVmac { name, mac, .. } = &out {
                let state = IfState {
                    index: self.next_index,
                    name: name.clone(),
                    up: false,
                    mac: Some(*mac),
                    addrs: Vec::new(),
                };
                self.next_index += 1;
                let link = Input::Link {
                    interface: name.clone(),
                    state: Some(state),
                };
                self.node.handle(self.now, link);
            }
            if let Output::AddAddress {
                instance, address, ..
            } = out
            {
                let added = Input::AddressAdded {
                    instance,
                    address,
                    created: true,
                };
                self.node.handle(self.now, added);
            }
            self.seen
                .push(serde_json::to_value(&out).expect("outputs serialise"));
        }
    }

    fn advance(&mut self, to: Duration) {
        while let Some(due) = self.node.poll_timeout().filter(|d| *d <= to) {
            self.now = due.max(self.now);
            self.node.handle_timeout(self.now);
            self.drain();
        }
        self.now = to;
    }

    fn instance(&self, line: usize, name: &Value) -> usize {
        let name = name.as_str().unwrap_or_default();
        match self.names.get(name) {
            Some(&i) => i,
            None => self.fail(line, format!("no instance `{name}`")),
        }
    }

    fn step(&mut self, line: usize, step: &Value) {
        if let Some(expect) = step.get("expect") {
            self.expect(line, expect);
            self.seen.clear();
            return;
        }
        let at = step.get("at").and_then(Value::as_u64);
        let Some(at) = at else {
            self.fail(line, "a step needs \"at\" (ms) or \"expect\"".into())
        };
        self.advance(Duration::from_millis(at));
        let input = if let Some(link) = step.get("link") {
            Some(link_input(link))
        } else if let Some(adv) = step.get("advert") {
            Some(self.advert_input(line, adv))
        } else if let Some(file) = step.get("reload") {
            let path = self
                .script
                .with_file_name(file.as_str().unwrap_or_default());
            let config = config::load(&path).unwrap_or_else(|errors| {
                let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
                self.fail(line, format!("{}: {}", path.display(), text.join("\n")))
            });
            let spec = Spec::from(&config);
            self.reloading = Some(spec.clone());
            Some(Input::Reload { spec })
        } else if let Some(check) = step.get("check") {
            let name = check["track"].as_str().unwrap_or_default();
            let Some(&track) = self.tracks.get(name) else {
                self.fail(line, format!("no track `{name}`"))
            };
            let result = serde_json::from_value(check["result"].clone())
                .unwrap_or_else(|e| self.fail(line, format!("bad result: {e}")));
            Some(Input::Check { track, result })
        } else {
            step.get("input").map(|i| {
                serde_json::from_value(i.clone())
                    .unwrap_or_else(|e| self.fail(line, format!("bad input: {e}")))
            })
        };
        if let Some(input) = input {
            self.node.handle(self.now, input);
            self.drain();
        }
    }

    fn advert_input(&self, line: usize, adv: &Value) -> Input {
        let instance = self.instance(line, &adv["instance"]);
        let spec = self.node.instance_spec(instance).expect("known instance");
        let interval = adv["interval_ms"]
            .as_u64()
            .map_or(spec.advert_interval, |ms| Centisecs((ms / 10) as u32));
        let src = adv["src"].as_str().unwrap_or_default().parse();
        let src = src.unwrap_or_else(|e| self.fail(line, format!("bad src: {e}")));
        Input::Advert {
            instance,
            advert: AdvertIn {
                src,
                priority: adv["priority"].as_u64().unwrap_or(100) as u8,
                interval,
            },
            addresses_match: !adv["mismatch"].as_bool().unwrap_or(false),
        }
    }

    fn expect(&self, line: usize, expect: &Value) {
        let per_instance = |key: &str, f: &dyn Fn(usize) -> Value| {
            for (name, want) in expect[key].as_object().into_iter().flatten() {
                let got = f(self.instance(line, &json!(name)));
                if &got != want {
                    self.fail(line, format!("{key} of {name}: {got}, expected {want}"));
                }
            }
        };
        let report = |i| self.node.report(i).expect("known instance");
        per_instance("state", &|i| json!(report(i).state));
        per_instance("effective_priority", &|i| {
            json!(report(i).effective_priority)
        });
        per_instance("fault_causes", &|i| json!(report(i).fault_causes));
        if let Some(want) = expect.get("output")
            && !self.seen.iter().any(|out| contains(out, want))
        {
            self.fail(line, format!("no output contains {want}"));
        }
        let unwanted = match expect.get("no_output") {
            Some(Value::Array(list)) => list.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        };
        for want in &unwanted {
            if let Some(out) = self.seen.iter().find(|out| contains(out, want)) {
                self.fail(line, format!("unexpected output {out}"));
            }
        }
        let mut rest = self.seen.iter();
        for want in expect["outputs"].as_array().into_iter().flatten() {
            if !rest.any(|out| contains(out, want)) {
                self.fail(line, format!("no output contains {want} (in order)"));
            }
        }
    }
}

/// `want` is a subset of `got`: every key of an object with a matching value, arrays equal
/// element by element (as subsets), other values equal.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(gv, wv)| contains(gv, wv))
        }
        _ => got == want,
    }
}

fn link_input(link: &Value) -> Input {
    let interface = link["interface"].as_str().unwrap_or_default().to_owned();
    if link.get("up").is_none() {
        return Input::Link {
            interface,
            state: None,
        };
    }
    let addrs = link["addrs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|text| {
            let mut words = text.split_whitespace();
            let address: VirtualAddress = words
                .next()
                .and_then(|a| a.parse().ok())
                .unwrap_or_else(|| panic!("bad address {text}"));
            let flags: Vec<&str> = words.collect();
            IfAddr {
                addr: address.addr,
                prefix_len: address.prefix_len,
                secondary: flags.contains(&"secondary"),
                tentative: flags.contains(&"tentative"),
                by_vipd: flags.contains(&"vipd"),
            }
        })
        .collect();
    Input::Link {
        state: Some(IfState {
            index: link["index"].as_u64().unwrap_or(2) as u32,
            name: interface.clone(),
            up: link["up"].as_bool().unwrap_or(false),
            mac: Some(
                link["mac"]
                    .as_str()
                    .map_or([0x02, 0, 0, 0, 0, 0x01], parse_mac),
            ),
            addrs,
        }),
        interface,
    }
}

/// `00:00:5e:00:01:33`.
fn parse_mac(text: &str) -> [u8; 6] {
    let mut mac = [0u8; 6];
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bad MAC {text}")))
        .collect();
    assert_eq!(bytes.len(), 6, "bad MAC {text}");
    mac.copy_from_slice(&bytes);
    mac
}

fn run(script: &Path) {
    let mut replay = Replay::new(script);
    let text = std::fs::read_to_string(script).expect("readable script");
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let step: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{line_no}: not JSON: {e}", script.display()));
        replay.step(line_no, &step);
    }
}

#[test]
fn every_script_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replay");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/replay")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 5, "only {scripts:?}");
    for script in &scripts {
        run(script);
    }
}
