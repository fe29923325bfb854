//! Parameters into declared types. TarsWeb clients send an endpoint's parameters in the
//! query string, a form or a JSON body, numbers often as text; the gateway merges them
//! into one JSON object and [`from_params`] fills the endpoint's input type from it.
//!
//! Fields are read in the order the type declares them, present or not, so the fault
//! reported is the first of the type's fields at fault, whatever order the client sent
//! them in, as the hand-written getters this replaces did. Every leaf field names one of
//! the lenient readers of [`de`] (`#[serde(deserialize_with = "…")]`), which accept what
//! TarsWeb accepted (`"42"` for 42, `"Y"` for true) and say what is wrong in the words
//! callers already see; the path of the parameter (`adapters[0].port`) is added on the
//! way out.

use std::fmt::Display;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{forward_to_deserialize_any, Deserializer};
use serde_json::{Map, Value};

/// A parameter that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{path}` {reason}")]
pub struct ParamError {
    path: String,
    reason: String,
}

impl ParamError {
    /// A fault of the parameter at `path`.
    pub fn new(path: impl Into<String>, reason: impl Display) -> ParamError {
        ParamError {
            path: path.into(),
            reason: reason.to_string(),
        }
    }

    /// Where the fault is, e.g. `items[0].command`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The fault seen from one level up: `segment` is a field name or `[index]`.
    fn within(mut self, segment: &str) -> ParamError {
        self.path = match self.path.chars().next() {
            None => segment.to_string(),
            Some('[') => format!("{segment}{}", self.path),
            Some(_) => format!("{segment}.{}", self.path),
        };
        self
    }
}

impl serde::de::Error for ParamError {
    fn custom<T: Display>(reason: T) -> ParamError {
        ParamError::new("", reason)
    }
}

/// Fills `T` from the merged parameters (a JSON object).
pub fn from_params<T: DeserializeOwned>(params: &Value) -> Result<T, ParamError> {
    T::deserialize(Node(Some(params)))
}

/// One parameter's value; `None` when absent or JSON null, which callers mean alike.
#[derive(Clone, Copy)]
struct Node<'de>(Option<&'de Value>);

fn given(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

impl<'de> Deserializer<'de> for Node<'de> {
    type Error = ParamError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            None => visitor.visit_unit(),
            Some(Value::Array(items)) => visitor.visit_seq(Items(items.iter().enumerate())),
            Some(Value::Object(map)) => visitor.visit_map(Entries {
                entries: map.iter(),
                pending: None,
            }),
            Some(value) => value
                .deserialize_any(visitor)
                .map_err(serde::de::Error::custom),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            None => visitor.visit_none(),
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ParamError> {
        match self.0 {
            Some(Value::Object(map)) => visitor.visit_map(Fields {
                map,
                fields: fields.iter(),
                current: "",
            }),
            None => Err(serde::de::Error::custom("is required")),
            Some(_) => Err(serde::de::Error::custom("must be an object")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Some(Value::Array(items)) => visitor.visit_seq(Items(items.iter().enumerate())),
            None => Err(serde::de::Error::custom("is required")),
            Some(_) => Err(serde::de::Error::custom("must be an array")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A struct's fields in declaration order, each whether given or not.
struct Fields<'de> {
    map: &'de Map<String, Value>,
    fields: std::slice::Iter<'static, &'static str>,
    current: &'static str,
}

impl<'de> MapAccess<'de> for Fields<'de> {
    type Error = ParamError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ParamError> {
        let Some(name) = self.fields.next() else {
            return Ok(None);
        };
        self.current = name;
        seed.deserialize(BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ParamError> {
        let name = self.current;
        seed.deserialize(Node(given(self.map.get(name))))
            .map_err(|e| e.within(name))
    }
}

/// An object's entries in the order given (an object read whole, not as a struct).
struct Entries<'de> {
    entries: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = ParamError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ParamError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ParamError> {
        let (key, value) = self.pending.take().expect("a key comes before its value");
        seed.deserialize(Node(given(Some(value))))
            .map_err(|e| e.within(key))
    }
}

/// An array's elements, each named by its index.
struct Items<'de>(std::iter::Enumerate<std::slice::Iter<'de, Value>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = ParamError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ParamError> {
        let Some((index, value)) = self.0.next() else {
            return Ok(None);
        };
        seed.deserialize(Node(Some(value)))
            .map(Some)
            .map_err(|e| e.within(&format!("[{index}]")))
    }
}

/// The lenient readers every input field names. Each takes what TarsWeb took and words
/// its refusal as callers already see it (`must be an integer, got "x"`).
pub mod de {
    use std::fmt;

    use serde::de::{Error, MapAccess, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Option::<Value>::deserialize(d)
    }

    /// Text; numbers and booleans are taken as their text.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match value(d)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(D::Error::custom("must be a string")),
        }
    }

    /// Non-blank text.
    pub fn required_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        match text(d)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(D::Error::custom("is required")),
        }
    }

    /// Text that must be given but may be empty (file contents).
    pub fn present_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        text(d)?.ok_or_else(|| D::Error::custom("is required (it may be empty)"))
    }

    /// An integer; numeric text is accepted, as TarsWeb clients send it, and empty text
    /// counts as absent.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let bad =
            |got: &dyn fmt::Display| D::Error::custom(format!("must be an integer, got {got}"));
        match value(d)? {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(&n)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad(&format_args!("{s:?}"))),
            Some(other) => Err(bad(&other)),
        }
    }

    /// A required integer.
    pub fn required_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        int(d)?.ok_or_else(|| D::Error::custom("is required"))
    }

    /// A boolean: JSON booleans, 0/1, and the texts true/false, 1/0, Y/N, yes/no.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match value(d)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "y" | "yes" => Ok(Some(true)),
                "false" | "0" | "n" | "no" => Ok(Some(false)),
                _ => Err(D::Error::custom(format!(
                    "must be true or false, got {s:?}"
                ))),
            },
            Some(other) => Err(D::Error::custom(format!(
                "must be true or false, got {other}"
            ))),
        }
    }

    /// Ids as `1;2;3` (also `,`-separated) or a JSON array of numbers; at least one.
    pub fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        let bad = |v: &dyn fmt::Display| {
            D::Error::custom(format!("must be ids separated by `;`, got {v}"))
        };
        let ids: Vec<i64> = match value(d)? {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_i64().ok_or_else(|| bad(n)),
                    Value::String(s) => s.trim().parse().map_err(|_| bad(s)),
                    other => Err(bad(other)),
                })
                .collect::<Result<_, _>>()?,
            Some(Value::Number(n)) => vec![n.as_i64().ok_or_else(|| bad(&n))?],
            Some(Value::String(s)) => s
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse().map_err(|_| bad(&p)))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(bad(&other)),
        };
        if ids.is_empty() {
            return Err(D::Error::custom("is required"));
        }
        Ok(ids)
    }

    /// Texts as a JSON array of strings, or one text separated by `;` (also `,`) as
    /// TarsWeb takes node lists; blanks are dropped. Empty when absent.
    pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let items = d.deserialize_any(TextsVisitor)?;
        Ok(items.into_iter().filter(|s| !s.is_empty()).collect())
    }

    struct TextsVisitor;

    fn not_texts<E: Error>(got: impl fmt::Display) -> E {
        E::custom(format!(
            "must be a list of strings or `;`-separated text, got {got}"
        ))
    }

    impl<'de> Visitor<'de> for TextsVisitor {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of strings or `;`-separated text")
        }

        fn visit_unit<E: Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<Vec<String>, E> {
            Ok(s.split([';', ',']).map(|p| p.trim().to_string()).collect())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::new();
            while let Some(Element(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<String>, A::Error> {
            let got = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            Err(not_texts(got))
        }

        fn visit_bool<E: Error>(self, b: bool) -> Result<Vec<String>, E> {
            Err(not_texts(b))
        }

        fn visit_i64<E: Error>(self, n: i64) -> Result<Vec<String>, E> {
            Err(not_texts(n))
        }

        fn visit_u64<E: Error>(self, n: u64) -> Result<Vec<String>, E> {
            Err(not_texts(n))
        }

        fn visit_f64<E: Error>(self, n: f64) -> Result<Vec<String>, E> {
            Err(not_texts(Value::from(n)))
        }
    }

    /// One element of a text list.
    struct Element(String);

    impl<'de> Deserialize<'de> for Element {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
            match Value::deserialize(d)? {
                Value::String(s) => Ok(Element(s.trim().to_string())),
                other => Err(D::Error::custom(format!("must be a string, got {other}"))),
            }
        }
    }

    /// A value that must be given: a list or object, read field by field.
    pub fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
        Option::<T>::deserialize(d)?.ok_or_else(|| D::Error::custom("is required"))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::de::*;
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[serde(deserialize_with = "required_text")]
        name: String,
        #[serde(deserialize_with = "required_int")]
        port: i64,
    }

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[serde(deserialize_with = "required")]
        adapters: Vec<Inner>,
        #[serde(deserialize_with = "required_int")]
        id: i64,
        #[serde(deserialize_with = "flag")]
        flag: Option<bool>,
        #[serde(deserialize_with = "text")]
        note: Option<String>,
        #[serde(deserialize_with = "texts")]
        nodes: Vec<String>,
    }

    fn err(value: serde_json::Value) -> String {
        from_params::<Outer>(&value).unwrap_err().to_string()
    }

    #[test]
    fn numbers_may_be_text_and_flags_words() {
        let o: Outer = from_params(&json!({"id": "42", "flag": "Y", "note": 7,
            "adapters": [{"name": "a", "port": "1"}], "nodes": "a; b,,c", "ticket": "t"}))
        .unwrap();
        assert_eq!(
            (o.id, o.flag, o.note.as_deref()),
            (42, Some(true), Some("7"))
        );
        assert_eq!((o.adapters[0].name.as_str(), o.adapters[0].port), ("a", 1));
        assert_eq!(o.nodes, ["a", "b", "c"]);
    }

    #[test]
    fn faults_name_the_parameter_in_declaration_order() {
        assert_eq!(err(json!({"id": "x"})), "parameter `adapters` is required");
        assert_eq!(
            err(json!({"adapters": [], "id": "x"})),
            "parameter `id` must be an integer, got \"x\""
        );
        assert_eq!(
            err(json!({"id": 1, "adapters": [{"port": "x"}]})),
            "parameter `adapters[0].name` is required"
        );
        assert_eq!(
            err(json!({"adapters": [{"name": "n", "port": 1.5}], "id": 1})),
            "parameter `adapters[0].port` must be an integer, got 1.5"
        );
        assert_eq!(
            err(json!({"adapters": [7], "id": 1})),
            "parameter `adapters[0]` must be an object"
        );
        assert_eq!(
            err(json!({"adapters": {}, "id": 1})),
            "parameter `adapters` must be an array"
        );
        assert_eq!(
            err(json!({"adapters": [], "id": 1, "nodes": ["a", 1]})),
            "parameter `nodes[1]` must be a string, got 1"
        );
        assert_eq!(
            err(json!({"adapters": [], "id": 1, "nodes": {}})),
            "parameter `nodes` must be a list of strings or `;`-separated text, got {}"
        );
        assert_eq!(
            err(json!({"adapters": [], "id": 1, "flag": "maybe"})),
            "parameter `flag` must be true or false, got \"maybe\""
        );
    }

    #[test]
    fn null_and_empty_text_are_absent_where_the_getters_said_so() {
        let o: Outer =
            from_params(&json!({"adapters": [], "id": 1, "flag": null, "note": ""})).unwrap();
        assert_eq!(o.flag, None);
        assert_eq!(o.note.as_deref(), Some(""));
        assert_eq!(
            err(json!({"adapters": [], "id": ""})),
            "parameter `id` is required"
        );
    }
}
