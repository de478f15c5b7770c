//! The shape of the file (pass 2): the known keys of each table, the walk that reports
//! unknown ones, and the deserialization of one table at a time into span-carrying raw structs.
//! Everything in a raw struct is optional so that a missing key is one of the collected
//! semantic errors rather than the end of parsing.

use std::ops::Range;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IntoDeserializer, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::checks::A_DURATION;
use super::errors::{Sink, key_in};
use super::global::{A_GLOBAL, A_GROUP, A_ROUTER_ID, A_SOCKET, RawGlobal};
use super::instance::{
    A_AUTH_PASS, A_CHECKSUM, A_INSTANCES, A_INTERFACE, A_NAME, A_PEER, A_PEERS, A_PREEMPT,
    A_PRIORITY, A_VERSION, A_VIP, A_VIPS, A_VRID, RawInstance,
};
use super::keepalived::hint;

/// What a key accepts, for type errors; `key` has its `[n]` indices removed.
pub(super) fn allowed_for(key: &str, element: bool) -> Option<&'static str> {
    Some(match (key, element) {
        ("global", _) => A_GLOBAL,
        ("global.router_id", _) => A_ROUTER_ID,
        ("global.control_socket", _) => A_SOCKET,
        ("global.control_group", _) => A_GROUP,
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
        _ => return None,
    })
}

pub(super) const GLOBAL: &str = "global";
pub(super) const INSTANCE: &str = "instance";
/// The top level is walked by hand rather than deserialized, so its keys are listed here.
pub(super) const TOP_KEYS: &[&str] = &[GLOBAL, INSTANCE];

pub(super) struct RawFile {
    pub(super) global: Option<RawTable<RawGlobal>>,
    /// Elements that are not tables are `None` (already reported), so indices stay those of
    /// the file.
    pub(super) instance: Option<RawList<RawInstance>>,
    /// Top-level keys whose value has the wrong type (already reported).
    pub(super) broken: Vec<&'static str>,
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
}

impl Scope {
    /// The known keys, taken from the raw structs so that the lists cannot drift apart.
    pub(super) fn known_keys(self) -> &'static [&'static str] {
        match self {
            Scope::Top => TOP_KEYS,
            Scope::Global => field_names::<RawGlobal>(),
            Scope::Instance => field_names::<RawInstance>(),
        }
    }

    pub(super) fn table(self) -> &'static str {
        match self {
            Scope::Top => "the top level",
            Scope::Global => "the [global] table",
            Scope::Instance => "an [[instance]] table",
        }
    }
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
    let mut broken = Vec::new();
    let global = doc.get(GLOBAL).and_then(|value| {
        let read = read_table(value, Scope::Global, GLOBAL, sink);
        if read.is_none() {
            broken.push(GLOBAL);
        }
        read
    });
    let instance = doc.get(INSTANCE).and_then(|value| {
        let read = read_instances(value, sink);
        if read.is_none() {
            broken.push(INSTANCE);
        }
        read
    });
    RawFile {
        global,
        instance,
        broken,
    }
}

fn read_instances(
    value: &Spanned<DeValue<'_>>,
    sink: &mut Sink<'_>,
) -> Option<RawList<RawInstance>> {
    let DeValue::Array(list) = value.get_ref() else {
        let problem = format!("wrong type: {}", value.get_ref().type_str());
        sink.push(Some(value.span()), INSTANCE, problem, A_INSTANCES);
        return None;
    };
    let mut tables = Vec::with_capacity(list.len());
    for (i, element) in list.iter().enumerate() {
        let path = format!("{INSTANCE}[{i}]");
        tables.push(read_table(element, Scope::Instance, &path, sink));
    }
    Some(Spanned::new(value.span(), tables))
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
