//! Item parameters as `t_task_item.parameters` keeps them: a JSON object, as TarsWeb writes
//! it. Written canonically from the typed [`TaskParameters`]; read leniently, since rows
//! written by TarsWeb or other tools may carry numbers as text or flags as `"1"`.

use serde_json::{Map, Value};
use tars_proto::task_runner::TaskParameters;

/// The stored text of `parameters`: only the fields given, in the contract's order.
pub fn to_stored(parameters: &TaskParameters) -> String {
    let mut map = Map::new();
    if let Some(id) = parameters.patch_id {
        map.insert("patch_id".into(), id.into());
    }
    if let Some(flag) = parameters.bak_flag {
        map.insert("bak_flag".into(), flag.into());
    }
    if let Some(text) = &parameters.update_text {
        map.insert("update_text".into(), text.clone().into());
    }
    Value::Object(map).to_string()
}

/// The parameters a stored text holds; what cannot be read is left unset.
pub fn from_stored(text: Option<&str>) -> TaskParameters {
    let map = match text.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(map))) => map,
        _ => return TaskParameters::default(),
    };
    let field = |name: &str| map.get(name).filter(|v| !v.is_null());
    TaskParameters {
        patch_id: field("patch_id").and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }),
        bak_flag: field("bak_flag").map(|v| match v {
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_i64() == Some(1),
            Value::String(s) => matches!(s.trim(), "1" | "true" | "True"),
            _ => false,
        }),
        update_text: field("update_text").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_round_trips_and_foreign_rows_are_read_leniently() {
        let p = TaskParameters {
            patch_id: Some(2),
            bak_flag: Some(false),
            update_text: Some("recorded".into()),
        };
        let text = to_stored(&p);
        assert_eq!(
            text,
            r#"{"patch_id":2,"bak_flag":false,"update_text":"recorded"}"#
        );
        assert_eq!(from_stored(Some(&text)), p);
        assert_eq!(to_stored(&TaskParameters::default()), "{}");
        let foreign = from_stored(Some(r#"{"patch_id":"7","bak_flag":"1","update_text":3}"#));
        assert_eq!(foreign.patch_id, Some(7));
        assert_eq!(foreign.bak_flag, Some(true));
        assert_eq!(foreign.update_text.as_deref(), Some("3"));
        assert_eq!(from_stored(Some("not json")), TaskParameters::default());
        assert_eq!(from_stored(None), TaskParameters::default());
    }
}
