//! Local GGUF model tests; skipped when SmolLM2 is not provisioned (`sv models pull smollm2`).

use std::sync::{Mutex, OnceLock};

use sv_core::Message;
use sv_models::Sampling;
use sv_models::local::{LocalModel, render_chatml, resolve_local};

fn model() -> Option<&'static Mutex<LocalModel>> {
    static M: OnceLock<Option<Mutex<LocalModel>>> = OnceLock::new();
    M.get_or_init(|| match resolve_local("smollm2") {
        Ok(p) => Some(Mutex::new(LocalModel::load(&p, None).expect("load"))),
        Err(e) => {
            eprintln!("skipping local model test: {e}");
            None
        }
    })
    .as_ref()
}

#[test]
fn template_renders_chatml() {
    let s = render_chatml(&[Message::system("sys"), Message::user("hi")]);
    assert_eq!(
        s,
        "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn tokenizer_round_trip_and_known_ids() {
    let Some(m) = model() else { return };
    let m = m.lock().unwrap();
    for t in [
        "Hello, world!",
        "héllo wörld — 日本語 🚀",
        "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n",
    ] {
        let ids = m.encode(t).unwrap();
        assert_eq!(m.decode(&ids).unwrap(), t);
    }
    let im_start = m.tokens().iter().position(|t| t == "<|im_start|>").unwrap() as u32;
    assert_eq!(m.encode("<|im_start|>").unwrap(), vec![im_start]);
    let ids = m.encode("Hello").unwrap();
    let cat: String = ids
        .iter()
        .map(|i| m.tokens()[*i as usize].clone())
        .collect();
    assert_eq!(cat, "Hello");
}

#[test]
fn generation_is_deterministic() {
    let Some(m) = model() else { return };
    let mut m = m.lock().unwrap();
    let msgs = vec![Message::user("List three colors.")];
    for temp in [0.0, 0.7] {
        let s = Sampling {
            temperature: Some(temp),
            max_tokens: Some(16),
            seed: Some(7),
            ..Default::default()
        };
        let t0 = std::time::Instant::now();
        let a = m.generate(&msgs, &s).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        eprintln!(
            "temp {temp}: {} tok in {dt:.2}s ({:.1} tok/s): {:?}",
            a.2.completion_tokens,
            a.2.completion_tokens as f64 / dt,
            a.0
        );
        let b = m.generate(&msgs, &s).unwrap();
        assert_eq!(a, b);
    }
}
