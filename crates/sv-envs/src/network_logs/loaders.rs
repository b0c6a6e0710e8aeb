//! Dataset loaders (SV-Bench JSONL, our own sample JSONL, NSL-KDD) and `sv data import`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::{Value, json};
use sv_core::{Dataset, DatasetSource, EnvError, LoadOptions, Sample, content_id, sha256_hex};

use super::flow::{Flow, FlowMeta, flow_sample, label_of};

/// Formats `load` understands.
pub const FORMATS: [&str; 3] = ["jsonl", "samples", "nsl-kdd"];

fn row_err(path: &Path, line: u64, field: &str, message: impl Into<String>) -> EnvError {
    EnvError::Row {
        path: path.to_path_buf(),
        line,
        field: field.into(),
        message: message.into(),
    }
}

/// Load a dataset file; the format comes from the options or is inferred from the content.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Dataset, EnvError> {
    let bytes = std::fs::read(path).map_err(|e| EnvError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let text = String::from_utf8(bytes.clone()).map_err(|e| EnvError::File {
        path: path.to_path_buf(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })?;
    let format = match &opts.format {
        Some(f) => f.clone(),
        None => infer_format(&text),
    };
    let mut skipped = 0;
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let lineno = i as u64 + 1;
        let parsed = match format.as_str() {
            "samples" => parse_sample_line(path, lineno, line),
            "jsonl" => parse_svbench_line(path, lineno, line),
            "nsl-kdd" => parse_nsl_kdd_line(path, lineno, line),
            other => {
                return Err(EnvError::File {
                    path: path.to_path_buf(),
                    message: format!("unknown format `{other}`; known: {}", FORMATS.join(", ")),
                });
            }
        };
        match parsed {
            Ok(s) => samples.push(s),
            Err(e) if opts.skip_bad_rows => {
                skipped += 1;
                let _ = e;
            }
            Err(e) => return Err(e),
        }
    }
    if samples.is_empty() {
        return Err(EnvError::File {
            path: path.to_path_buf(),
            message: "no usable rows".into(),
        });
    }
    let rows = samples.len() + skipped;
    Ok(Dataset {
        samples,
        source: DatasetSource {
            kind: "file".into(),
            path: path.display().to_string(),
            sha256: sha256_hex(&bytes),
            rows,
            skipped,
            format,
        },
    })
}

fn infer_format(text: &str) -> String {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(first) {
            Ok(v) if v.get("id").is_some() && v.get("input").is_some() => "samples".into(),
            _ => "jsonl".into(),
        }
    } else if first.split(',').count() == 43 {
        "nsl-kdd".into()
    } else {
        "jsonl".into()
    }
}

fn parse_sample_line(path: &Path, line: u64, text: &str) -> Result<Sample, EnvError> {
    serde_json::from_str::<Sample>(text).map_err(|e| row_err(path, line, "<row>", e.to_string()))
}

fn parse_svbench_line(path: &Path, line: u64, text: &str) -> Result<Sample, EnvError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| row_err(path, line, "<row>", format!("invalid JSON: {e}")))?;
    let question = v
        .get("question")
        .and_then(Value::as_str)
        .ok_or_else(|| row_err(path, line, "question", "missing or not a string"))?;
    let answer = match v.get("answer") {
        Some(Value::String(s)) if s == "Benign" || s == "Malicious" => s.clone(),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("benign") => "Benign".into(),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("malicious") => "Malicious".into(),
        Some(Value::Bool(b)) => label_of(*b).into(),
        Some(Value::Number(n)) => label_of(n.as_i64() == Some(1)).into(),
        Some(other) => {
            return Err(row_err(
                path,
                line,
                "answer",
                format!("unknown label {other}"),
            ));
        }
        None => return Err(row_err(path, line, "answer", "missing")),
    };
    let meta = v.get("meta").cloned().unwrap_or(json!({}));
    let id = meta
        .get("hash")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| content_id(&json!({"q": question, "a": answer})));
    let split = meta
        .get("split")
        .and_then(Value::as_str)
        .unwrap_or("test")
        .to_string();
    Ok(Sample {
        id,
        split,
        input: json!({"text": question}),
        answer: Value::String(answer),
        meta,
    })
}

/// NSL-KDD attack names by family.
fn nsl_kdd_family(label: &str) -> &'static str {
    match label {
        "normal" => "normal",
        "back" | "land" | "neptune" | "pod" | "smurf" | "teardrop" | "apache2" | "mailbomb"
        | "processtable" | "udpstorm" | "worm" => "DoS",
        "ipsweep" | "nmap" | "portsweep" | "satan" | "mscan" | "saint" => "Probe",
        "ftp_write" | "guess_passwd" | "imap" | "multihop" | "phf" | "spy" | "warezclient"
        | "warezmaster" | "named" | "sendmail" | "snmpgetattack" | "snmpguess" | "xlock"
        | "xsnoop" | "httptunnel" => "R2L",
        "buffer_overflow" | "loadmodule" | "perl" | "rootkit" | "ps" | "sqlattack" | "xterm" => {
            "U2R"
        }
        _ => "other",
    }
}

fn parse_nsl_kdd_line(path: &Path, line: u64, text: &str) -> Result<Sample, EnvError> {
    let f: Vec<&str> = text.split(',').map(str::trim).collect();
    if f.len() != 43 {
        return Err(row_err(
            path,
            line,
            "<row>",
            format!("expected 43 columns, found {}", f.len()),
        ));
    }
    let num = |i: usize, name: &str| -> Result<f64, EnvError> {
        f[i].parse::<f64>()
            .map_err(|_| row_err(path, line, name, format!("not a number: `{}`", f[i])))
    };
    let duration = num(0, "duration")?;
    let src_bytes = num(4, "src_bytes")?;
    let dst_bytes = num(5, "dst_bytes")?;
    let count = num(22, "count")?;
    let label = f[41];
    if label.is_empty() {
        return Err(row_err(path, line, "label", "empty"));
    }
    let difficulty: i64 = f[42].parse().map_err(|_| {
        row_err(
            path,
            line,
            "difficulty",
            format!("not an integer: `{}`", f[42]),
        )
    })?;
    let flow = Flow {
        protocol: f[1].to_string(),
        src_port: None,
        dst_port: None,
        duration_s: Some(duration),
        bytes_out: Some(src_bytes as u64),
        bytes_in: Some(dst_bytes as u64),
        pkts_out: None,
        pkts_in: None,
        state: Some(f[3].to_string()),
        service: Some(f[2].to_string()),
        device: None,
    };
    let malicious = label != "normal";
    let meta = FlowMeta {
        source: "nsl-kdd".into(),
        family: nsl_kdd_family(label).into(),
        original_label: label.into(),
        difficulty: Some(json!(difficulty)),
        locator: format!("{line}:count={count}"),
    };
    Ok(flow_sample(&flow, malicious, &meta, "test"))
}

/// Write samples as JSONL (one `Sample` per line).
pub fn write_samples(samples: &[Sample], out: &Path) -> Result<(), EnvError> {
    let mut text = String::new();
    for s in samples {
        text.push_str(&serde_json::to_string(s).map_err(|e| EnvError::Other(e.to_string()))?);
        text.push('\n');
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| EnvError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    std::fs::write(out, text).map_err(|e| EnvError::Io {
        path: out.to_path_buf(),
        source: e,
    })
}

/// What an import produced.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Rows read.
    pub rows: usize,
    /// Rows skipped as malformed.
    pub skipped: usize,
    /// Duplicates removed.
    pub duplicates: usize,
    /// Samples written.
    pub written: usize,
    /// Counts by class.
    pub classes: BTreeMap<String, usize>,
    /// Counts by family.
    pub families: BTreeMap<String, usize>,
    /// Counts by split.
    pub splits: BTreeMap<String, usize>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rows {} skipped {} duplicates {} written {}",
            self.rows, self.skipped, self.duplicates, self.written
        )?;
        for (title, map) in [
            ("class", &self.classes),
            ("family", &self.families),
            ("split", &self.splits),
        ] {
            for (k, v) in map {
                writeln!(f, "{title:<7} {k:<24} {v}")?;
            }
        }
        Ok(())
    }
}

fn dedup_key(s: &Sample) -> String {
    match s.input.get("flow") {
        Some(flow) => {
            let g = |k: &str| flow.get(k).cloned().unwrap_or(Value::Null);
            sv_core::canonical_json(&json!([
                g("protocol"),
                g("src_port"),
                g("dst_port"),
                g("service"),
                g("state"),
                g("bytes_out"),
                g("bytes_in"),
                g("duration_s"),
                s.answer
            ]))
        }
        None => sv_core::canonical_json(&json!([s.input.get("text"), s.answer])),
    }
}

/// Import a public dataset: de-duplicate, stratified 70/15/15 split by (label, family) with
/// seed 42, write JSONL samples.
pub fn import(
    input: &Path,
    format: &str,
    skip_bad_rows: bool,
    out: &Path,
) -> Result<ImportReport, EnvError> {
    let ds = load(
        input,
        &LoadOptions {
            format: Some(format.into()),
            skip_bad_rows,
        },
    )?;
    let rows = ds.source.rows;
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for s in ds.samples {
        if seen.insert(dedup_key(&s)) {
            unique.push(s);
        }
    }
    let duplicates = rows - ds.source.skipped - unique.len();
    let mut strata: BTreeMap<(String, String), Vec<Sample>> = BTreeMap::new();
    for s in unique {
        let fam = s
            .meta
            .get("attack_family")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let label = s.answer.as_str().unwrap_or("").to_string();
        strata.entry((label, fam)).or_default().push(s);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut all = Vec::new();
    for (_, mut group) in strata {
        group.sort_by(|a, b| a.id.cmp(&b.id));
        group.shuffle(&mut rng);
        let n = group.len();
        let n_train = (n as f64 * 0.70).round() as usize;
        let n_dev = (n as f64 * 0.15).round() as usize;
        for (i, mut s) in group.into_iter().enumerate() {
            s.split = if i < n_train {
                "train"
            } else if i < n_train + n_dev {
                "dev"
            } else {
                "test"
            }
            .into();
            all.push(s);
        }
    }
    let mut report = ImportReport {
        rows,
        skipped: ds.source.skipped,
        duplicates,
        written: all.len(),
        classes: BTreeMap::new(),
        families: BTreeMap::new(),
        splits: BTreeMap::new(),
    };
    for s in &all {
        *report
            .classes
            .entry(s.answer.as_str().unwrap_or("").into())
            .or_default() += 1;
        *report
            .families
            .entry(
                s.meta
                    .get("attack_family")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .into(),
            )
            .or_default() += 1;
        *report.splits.entry(s.split.clone()).or_default() += 1;
    }
    write_samples(&all, out)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KDD: &str = "0,tcp,private,REJ,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,229,10,0.00,0.00,1.00,1.00,0.04,0.06,0.00,255,10,0.04,0.06,0.00,0.00,0.00,0.00,1.00,1.00,neptune,21\r\n0,tcp,ftp_data,SF,491,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2,2,0.00,0.00,0.00,0.00,1.00,0.00,0.00,150,25,0.17,0.03,0.17,0.00,0.00,0.00,0.05,0.00,normal,20";

    #[test]
    fn nsl_kdd_crlf_without_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("KDDTest+.txt");
        std::fs::write(&p, KDD).unwrap();
        let ds = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(ds.source.format, "nsl-kdd");
        assert_eq!(ds.samples.len(), 2);
        assert_eq!(ds.samples[0].answer, "Malicious");
        assert_eq!(ds.samples[0].meta["attack_family"], "DoS");
        assert_eq!(ds.samples[1].answer, "Benign");
        assert!(
            ds.samples[1].input["text"]
                .as_str()
                .unwrap()
                .contains("ftp_data")
        );
    }

    #[test]
    fn bad_rows_name_line_and_field_or_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.txt");
        let bad = KDD.replace(",491,", ",lots,");
        std::fs::write(&p, &bad).unwrap();
        let err = load(
            &p,
            &LoadOptions {
                format: Some("nsl-kdd".into()),
                skip_bad_rows: false,
            },
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(":2:") && msg.contains("src_bytes"), "{msg}");
        let ds = load(
            &p,
            &LoadOptions {
                format: Some("nsl-kdd".into()),
                skip_bad_rows: true,
            },
        )
        .unwrap();
        assert_eq!((ds.samples.len(), ds.source.skipped), (1, 1));
        let p2 = dir.path().join("e.jsonl");
        std::fs::write(
            &p2,
            "{\"question\": \"x\", \"answer\": \"Benign\"}\n{\"answer\": \"Benign\"}\n",
        )
        .unwrap();
        let msg = load(&p2, &LoadOptions::default()).unwrap_err().to_string();
        assert!(msg.contains(":2:") && msg.contains("question"), "{msg}");
    }

    #[test]
    fn svbench_jsonl_from_shared_data() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/security-verifiers/public_mini/e1.jsonl");
        if !p.exists() {
            eprintln!("skipping: {} is absent", p.display());
            return;
        }
        let ds = load(&p, &LoadOptions::default()).unwrap();
        assert_eq!(ds.samples.len(), 100);
        let mal = ds
            .samples
            .iter()
            .filter(|s| s.answer == "Malicious")
            .count();
        assert_eq!(mal, 50);
    }

    #[test]
    fn import_dedups_and_splits_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        write_samples(&super::super::generate(400, 5, 0.5), &input).unwrap();
        // Duplicate the file's rows once: import must remove them all.
        let text = std::fs::read_to_string(&input).unwrap();
        std::fs::write(&input, format!("{text}{text}")).unwrap();
        let out = dir.path().join("out.jsonl");
        let rep = import(&input, "samples", false, &out).unwrap();
        assert_eq!(rep.rows, 800);
        assert!(rep.duplicates >= 400);
        let train = rep.splits["train"] as f64 / rep.written as f64;
        assert!((train - 0.70).abs() < 0.06, "train share {train}");
        let back = load(&out, &LoadOptions::default()).unwrap();
        assert_eq!(back.samples.len(), rep.written);
    }
}
