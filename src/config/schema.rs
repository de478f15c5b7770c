//! The shape of the file (pass 2): the known keys of each table, the walk that reports
//! unknown ones, and the deserialization of one table at a time into span-carrying raw structs.
//! Everything in a raw struct is optional so that a missing key is one of the collected
//! semantic errors rather than the end of parsing.

use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IntoDeserializer, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::NOTIFY_KEYS;
use super::checks::{A_ARG, A_DURATION, A_INTERFACE};
use super::errors::{Sink, key_in};
use super::global::{
    A_GLOBAL, A_GROUP, A_METRICS_LISTEN, A_ROUTER_ID, A_SCRIPT_USER, A_SOCKET, RawGlobal,
};
use super::instance::{
    A_ACCEPT_MODE, A_AUTH_PASS, A_CHECKSUM, A_GARP_REFRESH, A_INSTANCES, A_NAME, A_PEER, A_PEERS,
    A_PREEMPT, A_PREEMPT_DELAY, A_PRIORITY, A_VERSION, A_VIP, A_VIPS, A_VIRTUAL_MAC,
    A_VMAC_INTERFACE, A_VRID, RawInstance,
};
use super::keepalived::hint;
use super::notify::{A_NOTIFY, A_NOTIFY_TIMEOUT};
use super::sync_group::{A_GROUP_MEMBER, A_GROUP_MEMBERS, A_GROUP_NAME, A_GROUPS, RawSyncGroup};
use super::track::{
    A_COMMAND, A_FALL, A_FILE_NAME, A_FILE_PATH, A_FILE_REF, A_PROCESS, A_RISE, A_SCRIPT_NAME,
    A_SCRIPT_REF, A_TIMEOUT, A_TRACK_ENTRY, A_TRACK_FILES, A_TRACK_INTERVAL, A_TRACK_SCRIPTS,
    A_TRACKS, A_WEIGHT, RawTrackFile, RawTrackRef, RawTrackScript,
};

/// What a key accepts, for type errors; `key` has its `[n]` indices removed.
pub(super) fn allowed_for(key: &str, element: bool) -> Option<&'static str> {
    Some(match (key, element) {
        ("global", _) => A_GLOBAL,
        ("global.router_id", _) => A_ROUTER_ID,
        ("global.control_socket", _) => A_SOCKET,
        ("global.control_group", _) => A_GROUP,
        ("global.script_user", _) => A_SCRIPT_USER,
        ("global.notify_timeout", _) => A_NOTIFY_TIMEOUT,
        ("global.metrics_listen", _) => A_METRICS_LISTEN,
        ("instance", false) => A_INSTANCES,
        ("instance", true) => "an [[instance]] table",
        ("instance.name", _) => A_NAME,
        ("instance.interface", _) => A_INTERFACE,
        ("instance.vrid", _) => A_VRID,
        ("instance.priority", _) => A_PRIORITY,
        ("instance.version", _) => A_VERSION,
        ("instance.advert_interval", _) => A_DURATION,
        ("instance.preempt", _) => A_PREEMPT,
        ("instance.virtual_addresses", false) => A_VIPS,
        ("instance.virtual_addresses", true) => A_VIP,
        ("instance.unicast_peers", false) => A_PEERS,
        ("instance.unicast_peers", true) => A_PEER,
        ("instance.auth_pass", _) => A_AUTH_PASS,
        ("instance.checksum_ipv4_pseudo_header", _) => A_CHECKSUM,
        ("instance.preempt_delay", _) => A_PREEMPT_DELAY,
        ("instance.garp_refresh", _) => A_GARP_REFRESH,
        ("instance.virtual_mac", _) => A_VIRTUAL_MAC,
        ("instance.vmac_interface", _) => A_VMAC_INTERFACE,
        ("instance.accept_mode", _) => A_ACCEPT_MODE,
        ("instance.track", false) => A_TRACKS,
        ("instance.track", true) => A_TRACK_ENTRY,
        ("instance.track.script", _) => A_SCRIPT_REF,
        ("instance.track.file", _) => A_FILE_REF,
        ("instance.track.interface", _) => A_INTERFACE,
        ("instance.track.process", _) => A_PROCESS,
        ("instance.track.weight", _) => A_WEIGHT,
        _ if is_notify(key) => {
            if element {
                A_ARG
            } else {
                A_NOTIFY
            }
        }
        _ => return allowed_for_trackers(key, element),
    })
}

/// `instance.notify_master`, `sync_group.notify`...
fn is_notify(key: &str) -> bool {
    let field = key.strip_prefix("instance.");
    let field = field.or_else(|| key.strip_prefix("sync_group."));
    field.is_some_and(|f| NOTIFY_KEYS.contains(&f))
}

/// [`allowed_for`] the top-level tables other than `[global]` and `[[instance]]`.
fn allowed_for_trackers(key: &str, element: bool) -> Option<&'static str> {
    Some(match (key, element) {
        ("track_script", false) => A_TRACK_SCRIPTS,
        ("track_script", true) => "a [[track_script]] table",
        ("track_script.name", _) => A_SCRIPT_NAME,
        ("track_file.name", _) => A_FILE_NAME,
        ("track_script.command", false) => A_COMMAND,
        ("track_script.command", true) => A_ARG,
        ("track_script.interval", _) => A_TRACK_INTERVAL,
        ("track_script.timeout", _) => A_TIMEOUT,
        ("track_script.rise", _) => A_RISE,
        ("track_script.fall", _) => A_FALL,
        ("track_file", false) => A_TRACK_FILES,
        ("track_file", true) => "a [[track_file]] table",
        ("track_file.path", _) => A_FILE_PATH,
        ("sync_group", false) => A_GROUPS,
        ("sync_group", true) => "a [[sync_group]] table",
        ("sync_group.name", _) => A_GROUP_NAME,
        ("sync_group.instances", false) => A_GROUP_MEMBERS,
        ("sync_group.instances", true) => A_GROUP_MEMBER,
        _ => return None,
    })
}

pub(super) const GLOBAL: &str = "global";
pub(super) const INSTANCE: &str = "instance";
pub(super) const TRACK_SCRIPT: &str = "track_script";
pub(super) const TRACK_FILE: &str = "track_file";
pub(super) const SYNC_GROUP: &str = "sync_group";
/// The `track` list of an instance, read on its own (see [`read_instance`]).
pub(super) const TRACK: &str = "track";
/// The top level is walked by hand rather than deserialized, so its keys are listed here.
pub(super) const TOP_KEYS: &[&str] = &[GLOBAL, INSTANCE, TRACK_SCRIPT, TRACK_FILE, SYNC_GROUP];

pub(super) struct RawFile {
    pub(super) global: Option<RawTable<RawGlobal>>,
    /// `[global]` is not a table (already reported).
    pub(super) global_broken: bool,
    pub(super) instance: RawSection<RawInstance>,
    pub(super) track_script: RawSection<RawTrackScript>,
    pub(super) track_file: RawSection<RawTrackFile>,
    pub(super) sync_group: RawSection<RawSyncGroup>,
}

/// A top-level list of tables as read.
pub(super) struct RawSection<T> {
    /// `None` when absent, or when not a list of tables (`broken`).
    pub(super) list: Option<RawList<T>>,
    /// The key had the wrong type (already reported).
    pub(super) broken: bool,
}

/// A raw table with a `name` key, which other tables refer to.
pub(super) trait Named {
    fn name(&self) -> Option<&Spanned<String>>;
}

/// The names written in a list of tables, valid or not, for the references to them.
pub(super) struct Known {
    /// In file order, for the "allowed" text.
    names: Vec<String>,
    /// The same, to look references up: a generated file may have thousands of each.
    set: HashSet<String>,
    /// Every table of the list was read and had a name: a name not among them is certainly
    /// unknown. Otherwise a reference may be to the table that could not be read (an error
    /// already reported), and is not reported again.
    complete: bool,
}

impl Known {
    pub(super) fn of<T: Named>(section: &RawSection<T>) -> Known {
        let mut complete = !section.broken;
        let mut names = Vec::new();
        let tables = section.list.iter().flat_map(|list| list.get_ref());
        for table in tables {
            match table.as_ref().and_then(|t| t.raw.get_ref().name()) {
                Some(name) => names.push(name.get_ref().clone()),
                None => complete = false,
            }
        }
        let set = names.iter().cloned().collect();
        Known {
            names,
            set,
            complete,
        }
    }

    /// Whether `name` is certainly not one of the names.
    pub(super) fn lacks(&self, name: &str) -> bool {
        self.complete && !self.set.contains(name)
    }

    /// What a reference may name, for the "allowed" text: `the name of a [[track_file]]
    /// table: `a`, `b``, or that there is none; `table` is "a [[track_file]] table".
    pub(super) fn allowed(&self, table: &str) -> String {
        /// A generated file may have thousands; the first few make the point.
        const SHOWN: usize = 10;
        if self.names.is_empty() {
            return format!("the name of {table}; this file has none");
        }
        let shown: Vec<String> = self
            .names
            .iter()
            .take(SHOWN)
            .map(|n| format!("`{n}`"))
            .collect();
        let more = match self.names.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        format!("the name of {table}: {}{more}", shown.join(", "))
    }
}

/// A list of tables (`[[instance]]`); elements that are not tables are `None` (already
/// reported), so that indices stay those of the file.
pub(super) type RawList<T> = Spanned<Vec<Option<RawTable<T>>>>;

/// One deserialized table.
pub(super) struct RawTable<T> {
    pub(super) raw: Spanned<T>,
    /// Keys dropped for a wrong type. They were reported, so they are not also "missing".
    pub(super) broken: Vec<&'static str>,
}

impl<T> RawTable<T> {
    /// The raw values, and their table as the checks need it; `path` is its key path.
    pub(super) fn open(self, path: String) -> (T, Table) {
        let span = self.raw.span();
        let table = Table {
            path,
            span,
            broken: self.broken,
        };
        (self.raw.into_inner(), table)
    }
}

/// A table under validation.
pub(super) struct Table {
    /// The key path of the table: `instance[2]`.
    pub(super) path: String,
    /// The whole table, where a missing key is reported.
    pub(super) span: Range<usize>,
    /// Keys dropped for a wrong type (already reported).
    pub(super) broken: Vec<&'static str>,
}

impl Table {
    /// The key path of `field` in this table.
    pub(super) fn key(&self, field: &str) -> String {
        format!("{}.{field}", self.path)
    }

    pub(super) fn is_broken(&self, field: &str) -> bool {
        self.broken.contains(&field)
    }

    /// A required key's value; when it is absent, reports it missing, unless it was dropped for
    /// its type: that was reported as such, and it is not missing too.
    pub(super) fn required<V>(
        &self,
        value: Option<V>,
        field: &str,
        allowed: &str,
        sink: &mut Sink<'_>,
    ) -> Option<V> {
        if value.is_none() && !self.is_broken(field) {
            let problem = format!("required key `{field}` is missing");
            sink.push(Some(self.span.clone()), self.key(field), problem, allowed);
        }
        value
    }
}

/// A table whose keys are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    Top,
    Global,
    Instance,
    /// An entry of an instance's `track` list.
    Track,
    TrackScript,
    TrackFile,
    SyncGroup,
}

impl Scope {
    /// The known keys, taken from the raw structs so that the lists cannot drift apart.
    pub(super) fn known_keys(self) -> &'static [&'static str] {
        match self {
            Scope::Top => TOP_KEYS,
            Scope::Global => field_names::<RawGlobal>(),
            Scope::Instance => field_names::<RawInstance>(),
            Scope::Track => field_names::<RawTrackRef>(),
            Scope::TrackScript => field_names::<RawTrackScript>(),
            Scope::TrackFile => field_names::<RawTrackFile>(),
            Scope::SyncGroup => field_names::<RawSyncGroup>(),
        }
    }

    pub(super) fn table(self) -> &'static str {
        match self {
            Scope::Top => "the top level",
            Scope::Global => "the [global] table",
            Scope::Instance => "an [[instance]] table",
            Scope::Track => "an entry of an instance's `track` list",
            Scope::TrackScript => "a [[track_script]] table",
            Scope::TrackFile => "a [[track_file]] table",
            Scope::SyncGroup => "a [[sync_group]] table",
        }
    }

    /// The tables, where a key that is unknown in one may be at home.
    pub(super) const TABLES: [Scope; 6] = [
        Scope::Global,
        Scope::Instance,
        Scope::TrackScript,
        Scope::TrackFile,
        Scope::SyncGroup,
        Scope::Track,
    ];
}

/// The field names of `T`, as its derived `Deserialize` hands them to `deserialize_struct`.
pub(super) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The deserializer always fails once it has seen the fields: there is nothing to keep.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that records the field list of the struct asked for, then stops.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only a struct has field names"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The known keys, worded as serde words them: "`a` or `b`", "one of `a`, `b`, `c`".
fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [] => "no keys".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}

/// Reports the unknown keys of `table` (at key path `path`) and returns their names.
fn report_unknown(
    table: &DeTable<'_>,
    scope: Scope,
    path: &str,
    sink: &mut Sink<'_>,
) -> Vec<String> {
    let known = scope.known_keys();
    let mut unknown = Vec::new();
    for (key, _) in table.iter() {
        let name: &str = key.get_ref();
        if known.contains(&name) {
            continue;
        }
        unknown.push(name.to_owned());
        if sink.counted_unlisted() {
            continue;
        }
        let mut problem = format!("unknown key `{name}`");
        if let Some(hint) = hint(scope, name) {
            problem.push_str(&format!(" ({hint})"));
        }
        let full = if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        sink.push(Some(key.span()), full, problem, &one_of(known));
    }
    unknown
}

pub(super) fn read_file(doc: &DeTable<'_>, sink: &mut Sink<'_>) -> RawFile {
    report_unknown(doc, Scope::Top, "", sink);
    let global = doc
        .get(GLOBAL)
        .map(|value| read_table(value, Scope::Global, GLOBAL, sink));
    RawFile {
        global_broken: global.as_ref().is_some_and(Option::is_none),
        global: global.flatten(),
        instance: read_section(doc, INSTANCE, A_INSTANCES, sink, read_instance),
        track_script: read_section(doc, TRACK_SCRIPT, A_TRACK_SCRIPTS, sink, |v, p, s| {
            read_table(v, Scope::TrackScript, p, s)
        }),
        track_file: read_section(doc, TRACK_FILE, A_TRACK_FILES, sink, |v, p, s| {
            read_table(v, Scope::TrackFile, p, s)
        }),
        sync_group: read_section(doc, SYNC_GROUP, A_GROUPS, sink, |v, p, s| {
            read_table(v, Scope::SyncGroup, p, s)
        }),
    }
}

/// Reads one table of a list, at key path `path`.
type ReadTable<'r, T> =
    &'r mut dyn FnMut(&Spanned<DeValue<'_>>, &str, &mut Sink<'_>) -> Option<RawTable<T>>;

/// The top-level list of tables `key`, read one table at a time by `read`.
fn read_section<T>(
    doc: &DeTable<'_>,
    key: &str,
    allowed: &str,
    sink: &mut Sink<'_>,
    mut read: impl FnMut(&Spanned<DeValue<'_>>, &str, &mut Sink<'_>) -> Option<RawTable<T>>,
) -> RawSection<T> {
    let Some(value) = doc.get(key) else {
        return RawSection {
            list: None,
            broken: false,
        };
    };
    let list = read_list(value, key, allowed, sink, &mut read);
    RawSection {
        broken: list.is_none(),
        list,
    }
}

/// The list of tables `value` at key path `path`, each read by `read`; `None` (reported) if
/// `value` is not a list.
fn read_list<T>(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    allowed: &str,
    sink: &mut Sink<'_>,
    read: ReadTable<'_, T>,
) -> Option<RawList<T>> {
    let DeValue::Array(list) = value.get_ref() else {
        let problem = format!("wrong type: {}", value.get_ref().type_str());
        sink.push(Some(value.span()), path, problem, allowed);
        return None;
    };
    let mut tables = Vec::with_capacity(list.len());
    for (i, element) in list.iter().enumerate() {
        tables.push(read(element, &format!("{path}[{i}]"), sink));
    }
    Some(Spanned::new(value.span(), tables))
}

/// An `[[instance]]` table. Its `track` list is taken out and read on its own, one entry at a
/// time, so that a wrong type in one entry drops that key of that entry, not the whole list.
fn read_instance(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<RawTable<RawInstance>> {
    let mut value = value.clone();
    let track = match value.get_mut() {
        DeValue::Table(table) => table.remove(TRACK),
        _ => None,
    };
    let mut instance = read_table::<RawInstance>(&value, Scope::Instance, path, sink)?;
    if let Some(track) = track {
        let path = format!("{path}.{TRACK}");
        let mut read =
            |v: &Spanned<DeValue<'_>>, p: &str, s: &mut Sink<'_>| read_table(v, Scope::Track, p, s);
        match read_list(&track, &path, A_TRACKS, sink, &mut read) {
            Some(list) => instance.raw.get_mut().track_list = Some(list),
            None => instance.broken.push(TRACK),
        }
    }
    Some(instance)
}

/// Reports the unknown keys of the table `value` (at key path `path`), then deserializes the
/// rest into `T`. serde stops at the first wrong type, so that key is reported and dropped and
/// serde runs again: one bad value hides nothing else. `None` if `value` is not a table.
fn read_table<'de, T: Deserialize<'de>>(
    value: &Spanned<DeValue<'de>>,
    scope: Scope,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<RawTable<T>> {
    let mut value = value.clone();
    if let DeValue::Table(table) = value.get_mut() {
        for name in report_unknown(table, scope, path, sink) {
            table.remove(name.as_str());
        }
    }
    let mut broken = Vec::new();
    loop {
        let error = match Spanned::<T>::deserialize(value.clone().into_deserializer()) {
            Ok(raw) => return Some(RawTable { raw, broken }),
            Err(e) => e,
        };
        let key = error.span().map(|s| key_in(&value, path, s.start));
        let key = key.unwrap_or_else(|| path.to_owned());
        if !sink.counted_unlisted() {
            sink.toml_error(&error, key.clone());
        }
        // Each round removes a key, so this ends; an error on the table itself ends it now.
        let culprit = top_key(&key, path)?;
        let culprit = *scope.known_keys().iter().find(|k| **k == culprit)?;
        let DeValue::Table(table) = value.get_mut() else {
            return None;
        };
        table.remove(culprit)?;
        broken.push(culprit);
    }
}

/// The key of the table at `path` that the key path `key` lies in: `vrid` for
/// `instance[0].vrid` in `instance[0]`. Known keys are plain names, without dots or brackets.
fn top_key<'k>(key: &'k str, path: &str) -> Option<&'k str> {
    let rest = key.strip_prefix(path)?.strip_prefix('.')?;
    rest.split(['.', '[']).next()
}
