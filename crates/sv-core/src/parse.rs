//! Strict JSON answer parsing: whole text, then the first fenced block, then the first
//! balanced `{…}` object, after dropping `<think>…</think>` blocks.

use serde_json::{Map, Value};

/// The stage of [`parse_json_answer`] that failed last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ParseStage {
    /// Nothing left after dropping think blocks and trimming.
    Empty,
    /// The whole text was not a JSON object.
    WholeText,
    /// The first fenced block was not a JSON object.
    FencedBlock,
    /// No balanced `{…}` candidate parsed as a JSON object.
    BalancedObject,
}

/// Why no JSON object could be extracted from an answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{stage:?}: {message}")]
pub struct ParseError {
    /// The last stage that was tried.
    pub stage: ParseStage,
    /// What went wrong there.
    pub message: String,
}

/// Remove every `<think>…</think>` block; an unclosed `<think>` drops the rest of the text.
fn strip_think(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        match rest.find("<think>") {
            None => {
                out.push_str(rest);
                return out;
            }
            Some(i) => {
                out.push_str(&rest[..i]);
                let after = &rest[i + "<think>".len()..];
                match after.find("</think>") {
                    None => return out,
                    Some(j) => rest = &after[j + "</think>".len()..],
                }
            }
        }
    }
}

fn as_object(s: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(s.trim()) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("JSON value is not an object".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Content of the first fenced block (```json or plain ```), if there is an opening fence.
fn first_fence(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    // Skip an optional language tag on the fence line.
    let body_start = match after.find('\n') {
        Some(nl) => {
            let tag = after[..nl].trim();
            // Plain fence, `json` (any case) or another word-like language tag.
            if tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                nl + 1
            } else {
                0
            }
        }
        None => {
            let lower = after
                .get(..4)
                .map(|s| s.eq_ignore_ascii_case("json"))
                .unwrap_or(false);
            if lower { 4 } else { 0 }
        }
    };
    let body = &after[body_start..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

/// Byte range end (exclusive) of the balanced object starting at byte `start` (a `{`).
fn balanced_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (k, &b) in bytes.iter().enumerate().skip(start) {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Extract the answer object from a model reply (see the module docs for the order).
pub fn parse_json_answer(text: &str) -> Result<Map<String, Value>, ParseError> {
    let stripped = strip_think(text);
    let trimmed = stripped.trim();
    if trimmed.is_empty() {
        return Err(ParseError {
            stage: ParseStage::Empty,
            message: "empty answer".into(),
        });
    }
    let mut last = match as_object(trimmed) {
        Ok(m) => return Ok(m),
        Err(e) => ParseError {
            stage: ParseStage::WholeText,
            message: e,
        },
    };
    if let Some(body) = first_fence(trimmed) {
        match as_object(body) {
            Ok(m) => return Ok(m),
            Err(e) => {
                last = ParseError {
                    stage: ParseStage::FencedBlock,
                    message: e,
                }
            }
        }
    }
    let bytes = trimmed.as_bytes();
    let mut found_candidate = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'{' {
            continue;
        }
        if let Some(end) = balanced_end(bytes, i) {
            found_candidate = true;
            // `{` and `}` are ASCII, so both ends are char boundaries.
            if let Some(slice) = trimmed.get(i..end) {
                match as_object(slice) {
                    Ok(m) => return Ok(m),
                    Err(e) => {
                        last = ParseError {
                            stage: ParseStage::BalancedObject,
                            message: e,
                        };
                    }
                }
            }
        }
    }
    if !found_candidate && last.stage == ParseStage::WholeText {
        last = ParseError {
            stage: ParseStage::BalancedObject,
            message: format!("no balanced JSON object found ({})", last.message),
        };
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn whole_text() {
        assert_eq!(parse_json_answer(r#" {"a":1} "#).unwrap()["a"], json!(1));
    }

    #[test]
    fn fenced_and_think() {
        let t = "<think>{\"a\":2}</think>Sure:\n```JSON\n{\"a\": 1}\n```\n";
        assert_eq!(parse_json_answer(t).unwrap()["a"], json!(1));
        let t = "```\n{\"a\": 3}\n```";
        assert_eq!(parse_json_answer(t).unwrap()["a"], json!(3));
    }

    #[test]
    fn unclosed_think_drops_rest() {
        let e = parse_json_answer("<think>{\"a\":1}").unwrap_err();
        assert_eq!(e.stage, ParseStage::Empty);
    }

    #[test]
    fn balanced_respects_strings() {
        let t = r#"answer: {"a": "}{\"", "b": {"c": 1}} trailing }"#;
        let m = parse_json_answer(t).unwrap();
        assert_eq!(m["b"]["c"], json!(1));
        let t = "junk {not json} then {\"x\": true}";
        assert_eq!(parse_json_answer(t).unwrap()["x"], json!(true));
    }

    #[test]
    fn failures_name_stage() {
        assert_eq!(
            parse_json_answer("   ").unwrap_err().stage,
            ParseStage::Empty
        );
        assert_eq!(
            parse_json_answer("hello").unwrap_err().stage,
            ParseStage::BalancedObject
        );
        assert_eq!(
            parse_json_answer("[1,2]").unwrap_err().stage,
            ParseStage::BalancedObject
        );
        let e = parse_json_answer("x {oops}").unwrap_err();
        assert_eq!(e.stage, ParseStage::BalancedObject);
        assert!(!e.to_string().is_empty());
    }

    fn simple_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|i| json!(i)),
            "[^\\x00]{0,12}".prop_map(Value::String),
        ]
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_json_answer(&s);
        }

        #[test]
        fn never_panics_bytes(s in any::<String>()) {
            let _ = parse_json_answer(&s);
        }

        #[test]
        fn embedded_object_is_found(
            m in proptest::collection::btree_map("[a-z]{1,6}", simple_value(), 1..5),
            prefix in "[^{`<]{0,20}",
            suffix in "[^{`<]{0,20}",
        ) {
            let obj: Map<String, Value> = m.into_iter().collect();
            let text = format!("{prefix}{}{suffix}", Value::Object(obj.clone()));
            let got = parse_json_answer(&text);
            prop_assert_eq!(got.ok(), Some(obj));
        }
    }
}
