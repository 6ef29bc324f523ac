//! A reader for the common shape of an evaluations request: `subject`, `action`, `resource`
//! and `evaluations` whose items hold only those three, each entity only `type` and `id`,
//! an action only `name`, every value a string without escapes. That is what a backend
//! PEP sends; it is read in one scan over the bytes, without serde's generic machinery.
//! Anything else (properties, context, options, escapes, other keys, duplicates, a wrong
//! type, malformed JSON) is not this shape: the reader says `None` and the request goes
//! the serde path, which reads every field and explains every error as before.

use std::borrow::Cow;

use super::request::{Action, Entity, Item, Text};

/// The request, when it has the common shape: its top level and its items.
pub(crate) struct Shaped<'a> {
    pub(crate) top: Item<'a>,
    pub(crate) items: Option<Vec<Item<'a>>>,
}

/// Reads `body` if it has the common shape, with at most `max_items` items (more are left
/// to the serde path, which refuses them before reading them into structs).
pub(crate) fn read(body: &[u8], max_items: usize) -> Option<Shaped<'_>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut scan = Scan { text, at: 0 };
    let mut items = None;
    let top = scan.item(|scan, key| match key {
        "evaluations" if items.is_none() => {
            items = Some(scan.items(max_items)?);
            Some(())
        }
        _ => None,
    })?;
    scan.space();
    (scan.at == text.len()).then_some(Shaped { top, items })
}

/// A position in the body.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn space(&mut self) {
        let rest = &self.text.as_bytes()[self.at..];
        self.at += rest.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
    }

    /// Skips whitespace and takes `byte`.
    fn take(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.text.as_bytes().get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// Skips whitespace and takes `byte` if it is next.
    fn took(&mut self, byte: u8) -> bool {
        self.take(byte).is_some()
    }

    /// A string with no escapes and no control characters (JSON requires those escaped;
    /// the serde path says so).
    fn string(&mut self) -> Option<&'a str> {
        self.take(b'"')?;
        let rest = &self.text.as_bytes()[self.at..];
        let length = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[length] != b'"' {
            return None;
        }
        // Both ends sit next to ASCII quotes, so they are character boundaries.
        let value = self.text.get(self.at..self.at + length)?;
        self.at += length + 1;
        Some(value)
    }

    /// An object of string fields, each key at most once, every key one of `keys`; the
    /// values in the order of `keys`.
    fn strings<const N: usize>(&mut self, keys: [&str; N]) -> Option<[Option<&'a str>; N]> {
        let mut values = [None; N];
        self.members(|scan, key| {
            let slot = keys.iter().position(|k| *k == key)?;
            if values[slot].is_some() {
                return None;
            }
            values[slot] = Some(scan.string()?);
            Some(())
        })?;
        Some(values)
    }

    fn entity(&mut self) -> Option<Entity<'a>> {
        let [ty, id] = self.strings(["type", "id"])?;
        Some(Entity { ty: ty.map(borrowed), id: id.map(borrowed), properties: None })
    }

    fn action(&mut self) -> Option<Action<'a>> {
        let [name] = self.strings(["name"])?;
        Some(Action::named(name.map(borrowed)))
    }

    /// An object of `subject`, `action` and `resource`, each at most once; any other key
    /// goes to `other`, which reads its value or gives up.
    fn item(&mut self, mut other: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<Item<'a>> {
        let mut item = Item::default();
        self.members(|scan, key| {
            match key {
                "subject" if item.subject.is_none() => item.subject = Some(scan.entity()?),
                "action" if item.action.is_none() => item.action = Some(scan.action()?),
                "resource" if item.resource.is_none() => item.resource = Some(scan.entity()?),
                "subject" | "action" | "resource" => return None,
                _ => other(scan, key)?,
            }
            Some(())
        })?;
        Some(item)
    }

    /// `[item, …]`, at most `max` of them, items holding no other keys.
    fn items(&mut self, max: usize) -> Option<Vec<Item<'a>>> {
        self.take(b'[')?;
        let mut items = Vec::new();
        if self.took(b']') {
            return Some(items);
        }
        loop {
            if items.len() == max {
                return None;
            }
            items.push(self.item(|_, _| None)?);
            if self.took(b']') {
                return Some(items);
            }
            self.take(b',')?;
        }
    }

    /// `{ "key": value, … }`, each value read by `member`.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.take(b'{')?;
        if self.took(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.take(b':')?;
            member(self, key)?;
            if self.took(b'}') {
                return Some(());
            }
            self.take(b',')?;
        }
    }
}

fn borrowed(text: &str) -> Text<'_> {
    Text(Cow::Borrowed(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::handlers::authzen::request::Evaluation;

    /// What the serde path reads from `body`: the top level's three entities and the items.
    fn by_serde(body: &str) -> Option<String> {
        let evaluation = Evaluation::<&serde_json::value::RawValue>::parse(Some("application/json"), body.as_bytes());
        let (top, items) = evaluation.ok()?.split();
        let top = Item { subject: top.subject, action: top.action, resource: top.resource, context: None };
        let items = items.map(|items| items.into_iter().map(Item::parse).collect::<Result<Vec<_>, _>>());
        Some(format!("{top:?} {:?}", items.transpose().ok()?))
    }

    fn by_shape(body: &str) -> Option<String> {
        read(body.as_bytes(), 10).map(|shaped| format!("{:?} {:?}", shaped.top, shaped.items))
    }

    #[test]
    fn more_items_than_the_limit_are_left_to_the_serde_path() {
        let items = |n: usize| format!(r#"{{"evaluations":[{}]}}"#, vec!["{}"; n].join(","));
        assert!(read(items(3).as_bytes(), 3).is_some());
        assert!(read(items(4).as_bytes(), 3).is_none());
    }

    #[test]
    fn the_common_shape_reads_exactly_as_the_serde_path_reads_it() {
        for body in [
            r#"{"evaluations":[{"subject":{"type":"user","id":"ann"},"action":{"name":"doc.view"},"resource":{"type":"doc","id":"d1"}}]}"#,
            r#" { "subject" : { "id" : "ann", "type" : "user" } , "evaluations" : [ { "action" : { "name" : "a" } } , { } ] } "#,
            r#"{"subject":{"type":"user","id":"ann"},"action":{"name":"doc.view"},"resource":{"type":"doc","id":"d1"}}"#,
            r#"{"evaluations":[]}"#,
            r#"{"subject":{"type":"user"},"action":{},"evaluations":[{"resource":{"id":"é"}}]}"#,
            "{}",
        ] {
            let shaped = by_shape(body);
            assert!(shaped.is_some(), "not read: {body}");
            assert_eq!(shaped, by_serde(body), "{body}");
        }
    }

    #[test]
    fn anything_else_goes_the_serde_path() {
        for body in [
            r#"{"options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[]}"#,
            r#"{"subject":{"type":"user","id":"ann","properties":{}}}"#,
            r#"{"subject":{"type":"user","id":"a\"nn"}}"#,
            r#"{"subject":{"type":"user","id":"a\u0041"}}"#,
            r#"{"subject":{"type":"user","type":"user"}}"#,
            r#"{"subject":{"type":1}}"#,
            r#"{"subject":null}"#,
            r#"{"evaluations":[{"context":{}}]}"#,
            r#"{"evaluations":[[]]}"#,
            r#"{"evaluations":[{}],"evaluations":[{}]}"#,
            r#"{"subject":{"type":"user"},"subject":{"type":"user"}}"#,
            r#"{"evaluations":[{},]}"#,
            r#"{"evaluations":[{}]} x"#,
            r#"{"subject":{"type":"us	er"}}"#,
            r#"{"subject":{"type":"user"}"#,
            r#"["evaluations"]"#,
            "",
        ] {
            assert!(by_shape(body).is_none(), "read a body of another shape: {body}");
        }
    }
}
