//! SARIF 2.1.0 output shared by every analyser (accepted by GitHub code scanning: one run per
//! tool, `rules` in the driver, `ruleIndex` on each result, region with 1-based lines).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::finding::{Finding, RuleInfo};

/// The SARIF schema URI written into every log.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Build a SARIF 2.1.0 log for one tool. Rules that are referenced by a finding but missing
/// from `rules` get a minimal descriptor so every `ruleIndex` is valid.
pub fn to_sarif(
    tool_name: &str,
    tool_version: &str,
    information_uri: &str,
    rules: &[RuleInfo],
    findings: &[Finding],
) -> Value {
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut descriptors: Vec<Value> = Vec::new();
    let mut add = |id: &str, d: Value, index: &mut BTreeMap<String, usize>| {
        if !index.contains_key(id) {
            index.insert(id.to_string(), descriptors.len());
            descriptors.push(d);
        }
    };
    for r in rules {
        let mut props = json!({"tags": ["security"], "problem.severity": r.severity.sarif_level()});
        if let Some(cwe) = r.cwe {
            props["tags"] = json!(["security", format!("external/cwe/cwe-{cwe}")]);
        }
        add(
            &r.id,
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.title},
                "help": {"text": r.help, "markdown": r.help},
                "defaultConfiguration": {"level": r.severity.sarif_level()},
                "properties": props,
            }),
            &mut index,
        );
    }
    for f in findings {
        add(
            &f.rule_id,
            json!({"id": f.rule_id, "shortDescription": {"text": f.rule_id}}),
            &mut index,
        );
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut region = json!({"startLine": f.line.max(1)});
            if f.column > 0 {
                region["startColumn"] = json!(f.column);
            }
            if let Some(end) = f.end_line.filter(|e| *e >= f.line.max(1)) {
                region["endLine"] = json!(end);
            }
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index[&f.rule_id],
                "level": f.severity.sarif_level(),
                "message": {"text": f.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri_of(&f.path)},
                        "region": region,
                    }
                }],
                "properties": {"severity": f.severity.as_str()},
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": tool_name,
                "version": tool_version,
                "informationUri": information_uri,
                "rules": descriptors,
            }},
            "results": results,
        }]
    })
}

/// A relative URI for a path: forward slashes, no leading `./`, spaces and `%` escaped.
fn uri_of(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(rule: &str, line: usize) -> Finding {
        Finding {
            tool: "t".into(),
            rule_id: rule.into(),
            severity: Severity::High,
            confidence: None,
            message: "m".into(),
            path: "./a dir/x.yaml".into(),
            line,
            column: 0,
            end_line: None,
            cwe: None,
            extra: Value::Null,
        }
    }

    #[test]
    fn every_result_points_at_a_rule_descriptor() {
        let rules = vec![RuleInfo {
            id: "R1".into(),
            name: "r-one".into(),
            severity: Severity::Low,
            title: "Rule one".into(),
            help: "help".into(),
            cwe: Some(798),
        }];
        let log = to_sarif(
            "sv",
            "0.1.0",
            "https://example.invalid",
            &rules,
            &[finding("R2", 3), finding("R1", 0)],
        );
        let run = &log["runs"][0];
        let descs = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(descs.len(), 2);
        for r in run["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(descs[i]["id"], r["ruleId"]);
            assert!(
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap()
                    >= 1
            );
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                "a%20dir/x.yaml"
            );
        }
        assert_eq!(log["version"], "2.1.0");
    }
}
