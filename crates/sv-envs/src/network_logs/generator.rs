//! Deterministic synthetic network-flow generator with benign and malicious families.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sv_core::Sample;

use super::flow::{Flow, FlowMeta, flow_sample};

/// Benign activity families, in generation order.
pub const BENIGN_FAMILIES: [&str; 7] = [
    "web",
    "dns",
    "ntp",
    "ssh_session",
    "streaming",
    "iot_telemetry",
    "backup",
];

/// Malicious attack families, in generation order.
pub const MALICIOUS_FAMILIES: [&str; 11] = [
    "horizontal_scan",
    "vertical_scan",
    "slow_scan",
    "syn_flood",
    "udp_flood",
    "ssh_bruteforce",
    "telnet_bruteforce",
    "c2_beacon",
    "dns_tunnel",
    "exfiltration",
    "mirai_propagation",
];

struct Gen {
    rng: ChaCha8Rng,
}

impl Gen {
    fn unit(&mut self) -> f64 {
        self.rng.random::<f64>()
    }
    /// Standard normal via Box–Muller from two uniforms.
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Log-normal with the given median and log-space sigma.
    fn lognorm(&mut self, median: f64, sigma: f64) -> f64 {
        (median.ln() + sigma * self.normal()).exp()
    }
    fn lognorm_u(&mut self, median: f64, sigma: f64) -> u64 {
        self.lognorm(median, sigma).round().max(0.0) as u64
    }
    fn uni(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng.random_range(lo..=hi)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.random_range(0..xs.len())]
    }
    fn eph(&mut self) -> u32 {
        self.rng.random_range(1024..=65535u32)
    }
    fn dur(&mut self, d: f64) -> f64 {
        (d * 1e6).round() / 1e6
    }
}

fn tcp(dst: u32, src: u32) -> Flow {
    Flow {
        protocol: "tcp".into(),
        src_port: Some(src),
        dst_port: Some(dst),
        ..Flow::default()
    }
}

fn udp(dst: u32, src: u32) -> Flow {
    Flow {
        protocol: "udp".into(),
        src_port: Some(src),
        dst_port: Some(dst),
        ..Flow::default()
    }
}

fn set(f: &mut Flow, dur: f64, bo: u64, bi: u64, po: u64, pi: u64, state: &str) {
    f.duration_s = Some(dur);
    f.bytes_out = Some(bo);
    f.bytes_in = Some(bi);
    f.pkts_out = Some(po);
    f.pkts_in = Some(pi);
    f.state = Some(state.to_string());
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// Difficulty tag of a family.
fn difficulty(family: &str) -> &'static str {
    match family {
        "ssh_session" | "backup" | "slow_scan" | "c2_beacon" | "exfiltration" => "hard",
        "dns_tunnel" | "ssh_bruteforce" | "telnet_bruteforce" | "streaming" => "medium",
        _ => "easy",
    }
}

fn make_flow(g: &mut Gen, family: &str) -> Flow {
    match family {
        "web" => {
            let port = g.pick(&[443u32, 443, 443, 80]);
            let mut f = tcp(port, g.eph());
            let bo = g.lognorm_u(800.0, 0.8) + 200;
            let bi = g.lognorm_u(15000.0, 1.2) + 300;
            let d = g.lognorm(2.0, 1.0);
            if g.unit() < 0.08 {
                // Hard benign case: a connection to a server that is down or refusing.
                let state = g.pick(&["S0", "REJ"]);
                let d = g.uni(0.0, 3.0);
                set(
                    &mut f,
                    g.dur(d),
                    0,
                    0,
                    g.int(1, 3),
                    u64::from(state == "REJ"),
                    state,
                );
            } else {
                set(
                    &mut f,
                    g.dur(d),
                    bo,
                    bi,
                    bo / 500 + g.int(3, 8),
                    bi / 1200 + g.int(3, 8),
                    "SF",
                );
            }
            f.service = some(if port == 443 { "https" } else { "http" });
            f.device = some(g.pick(&["workstation", "laptop", "phone"]));
            f
        }
        "dns" => {
            let mut f = udp(53, g.eph());
            let d = g.uni(0.001, 0.1);
            let (bo, bi) = (g.int(35, 80), g.int(60, 300));
            set(&mut f, g.dur(d), bo, bi, 1, 1, "SF");
            f.service = some("dns");
            f.device = some(g.pick(&["workstation", "laptop", "phone", "server"]));
            f
        }
        "ntp" => {
            let src = if g.unit() < 0.5 { 123 } else { g.eph() };
            let mut f = udp(123, src);
            let d = g.uni(0.005, 0.2);
            set(&mut f, g.dur(d), 48, 48, 1, 1, "SF");
            f.service = some("ntp");
            f.device = some(g.pick(&["server", "workstation", "router"]));
            f
        }
        "ssh_session" => {
            let mut f = tcp(22, g.eph());
            let d = g.lognorm(600.0, 1.0) + 30.0;
            let bo = g.lognorm_u(50000.0, 1.0) + 5000;
            let bi = g.lognorm_u(80000.0, 1.0) + 5000;
            set(
                &mut f,
                g.dur(d),
                bo,
                bi,
                bo / 90 + g.int(20, 60),
                bi / 120 + g.int(20, 60),
                "SF",
            );
            f.service = some("ssh");
            f.device = some(g.pick(&["admin-workstation", "laptop", "jump-host"]));
            f
        }
        "streaming" => {
            let mut f = tcp(443, g.eph());
            let d = g.uni(60.0, 3600.0);
            let bo = g.lognorm_u(30000.0, 0.7) + 2000;
            let bi = g.lognorm_u(5e7, 1.0) + 1_000_000;
            set(
                &mut f,
                g.dur(d),
                bo,
                bi,
                bo / 100 + g.int(50, 200),
                bi / 1400 + 10,
                "SF",
            );
            f.service = some("https");
            f.device = some(g.pick(&["smart-tv", "laptop", "phone"]));
            f
        }
        "iot_telemetry" => {
            let port = g.pick(&[1883u32, 8883]);
            let mut f = tcp(port, g.eph());
            let d = g.uni(0.05, 2.0);
            let (bo, bi) = (g.int(100, 600), g.int(40, 200));
            set(&mut f, g.dur(d), bo, bi, g.int(3, 8), g.int(3, 8), "SF");
            f.service = some(if port == 1883 { "mqtt" } else { "mqtts" });
            f.device = some(g.pick(&["iot-sensor", "thermostat", "smart-meter"]));
            f
        }
        "backup" => {
            let port = g.pick(&[873u32, 22, 445]);
            let mut f = tcp(port, g.eph());
            let d = g.lognorm(900.0, 1.0) + 60.0;
            let bo = g.lognorm_u(2e8, 1.0) + 10_000_000;
            let bi = g.lognorm_u(2e5, 0.8) + 20_000;
            set(
                &mut f,
                g.dur(d),
                bo,
                bi,
                bo / 1400 + 10,
                bi / 100 + 10,
                "SF",
            );
            f.service = some(match port {
                873 => "rsync",
                22 => "ssh",
                _ => "smb",
            });
            f.device = some(g.pick(&["file-server", "nas", "database-server"]));
            f
        }
        "horizontal_scan" => {
            let port = g.pick(&[22u32, 445, 3389, 80, 23, 5900]);
            let mut f = tcp(port, g.eph());
            let d = g.uni(0.0, 0.01);
            let state = g.pick(&["S0", "S0", "REJ"]);
            let pi = if state == "REJ" { 1 } else { 0 };
            let po = g.int(1, 2);
            set(&mut f, g.dur(d), po * g.int(0, 1) * 44, 0, po, pi, state);
            f.device = some(g.pick(&["unknown-device", "workstation", "server"]));
            f
        }
        "vertical_scan" => {
            let port = g.rng.random_range(1..=65535u32);
            let mut f = tcp(port, g.eph());
            let d = g.uni(0.0, 0.005);
            let state = g.pick(&["REJ", "S0"]);
            let pi = if state == "REJ" { 1 } else { 0 };
            set(&mut f, g.dur(d), g.int(0, 1) * 44, 0, 1, pi, state);
            f.device = some(g.pick(&["unknown-device", "workstation"]));
            f
        }
        "slow_scan" => {
            let port = g.rng.random_range(1..=65535u32);
            let mut f = tcp(port, g.eph());
            let d = g.uni(5.0, 120.0);
            let state = g.pick(&["S0", "S0", "REJ", "SH"]);
            let pi = if state == "REJ" { 1 } else { 0 };
            set(&mut f, g.dur(d), g.int(0, 1) * 44, 0, 1, pi, state);
            f.device = some(g.pick(&["unknown-device", "workstation", "server"]));
            f
        }
        "syn_flood" => {
            let port = g.pick(&[80u32, 443]);
            let mut f = tcp(port, g.eph());
            let d = g.uni(1.0, 30.0);
            let po = g.lognorm_u(800.0, 0.8) + 150;
            set(&mut f, g.dur(d), po * g.int(40, 60), 0, po, 0, "S0");
            f.device = some(g.pick(&["unknown-device", "iot-camera", "router"]));
            f
        }
        "udp_flood" => {
            let port = g.rng.random_range(1..=65535u32);
            let mut f = udp(port, g.eph());
            let d = g.uni(1.0, 60.0);
            let po = g.lognorm_u(8000.0, 1.0) + 1000;
            set(&mut f, g.dur(d), po * g.int(64, 1400), 0, po, 0, "S0");
            f.device = some(g.pick(&["unknown-device", "iot-camera", "server"]));
            f
        }
        "ssh_bruteforce" => {
            let mut f = tcp(22, g.eph());
            let d = g.uni(0.5, 5.0);
            let state = g.pick(&["RSTO", "S3", "RSTR", "RSTO"]);
            set(
                &mut f,
                g.dur(d),
                g.int(500, 2500),
                g.int(1000, 3500),
                g.int(8, 25),
                g.int(8, 22),
                state,
            );
            f.service = some("ssh");
            f.device = some(g.pick(&["unknown-device", "server", "workstation"]));
            f
        }
        "telnet_bruteforce" => {
            let mut f = tcp(23, g.eph());
            let d = g.uni(0.3, 6.0);
            let state = g.pick(&["RSTO", "S3", "SF", "RSTR"]);
            set(
                &mut f,
                g.dur(d),
                g.int(40, 400),
                g.int(60, 600),
                g.int(5, 20),
                g.int(4, 18),
                state,
            );
            f.service = some("telnet");
            f.device = some(g.pick(&["unknown-device", "iot-camera", "router"]));
            f
        }
        "c2_beacon" => {
            let port = g.pick(&[443u32, 8080, 4444]);
            let mut f = tcp(port, g.eph());
            // Most beacons are long-lived; some are short check-ins that look like web requests.
            let d = if g.unit() < 0.2 {
                g.uni(20.0, 280.0)
            } else {
                g.lognorm(3600.0, 0.5) + 300.0
            };
            let beat = g.int(60, 300);
            let beats = (d / beat as f64).max(1.0) as u64;
            let bo = 240 * beats.min(20) + g.int(0, 8);
            let bi = 120 * beats.min(20) + g.int(0, 8);
            set(
                &mut f,
                g.dur(d),
                bo,
                bi,
                2 * beats.min(20) + 2,
                2 * beats.min(20),
                "SF",
            );
            f.service = some(if port == 443 { "https" } else { "http" });
            f.device = some(g.pick(&["workstation", "laptop", "server"]));
            f
        }
        "dns_tunnel" => {
            let mut f = udp(53, g.eph());
            let d = g.uni(1.0, 60.0);
            let bo = g.lognorm_u(1500.0, 0.7) + 400;
            let po = bo / 120 + g.int(5, 20);
            set(
                &mut f,
                g.dur(d),
                bo,
                g.lognorm_u(1200.0, 0.7) + 200,
                po,
                po,
                "SF",
            );
            f.service = some("dns");
            f.device = some(g.pick(&["workstation", "laptop", "server"]));
            f
        }
        "exfiltration" => {
            let port = g.pick(&[443u32, 443, 21]);
            let mut f = tcp(port, g.eph());
            let d = g.uni(30.0, 1800.0);
            let bo = g.lognorm_u(5e7, 1.0) + 5_000_000;
            let bi = g.int(2000, 20000);
            set(&mut f, g.dur(d), bo, bi, bo / 1400 + 10, bi / 60 + 5, "SF");
            f.service = some(if port == 21 { "ftp" } else { "https" });
            f.device = some(g.pick(&["workstation", "database-server", "laptop"]));
            f
        }
        _ => {
            // mirai_propagation
            let port = g.pick(&[23u32, 2323, 23]);
            let mut f = tcp(port, g.eph());
            let d = g.uni(0.0, 0.02);
            let po = g.int(1, 2);
            set(&mut f, g.dur(d), g.int(0, 1) * 60, 0, po, 0, "S0");
            f.device = some(g.pick(&["iot-camera", "dvr", "router"]));
            f
        }
    }
}

/// Split counts summing to `c`: about 70/15/15 train/dev/test.
fn split_counts(c: usize) -> (usize, usize) {
    let train = (c as f64 * 0.7).round() as usize;
    let dev = (c as f64 * 0.15).round() as usize;
    let train = train.min(c);
    (train, dev.min(c - train))
}

/// Spread `total` over `k` families as evenly as possible.
fn per_family(total: usize, k: usize) -> Vec<usize> {
    (0..k)
        .map(|i| total / k + usize::from(i < total % k))
        .collect()
}

/// Generate exactly `n` labelled synthetic flows (deterministic for a `seed`); round(n·share) are malicious.
pub fn generate(n: usize, seed: u64, malicious_share: f64) -> Vec<Sample> {
    let share = if malicious_share.is_finite() {
        malicious_share.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let n_mal = ((n as f64 * share).round() as usize).min(n);
    let n_ben = n - n_mal;
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
    };
    let plan: Vec<(&str, bool, usize)> = BENIGN_FAMILIES
        .iter()
        .zip(per_family(n_ben, BENIGN_FAMILIES.len()))
        .map(|(f, c)| (*f, false, c))
        .chain(
            MALICIOUS_FAMILIES
                .iter()
                .zip(per_family(n_mal, MALICIOUS_FAMILIES.len()))
                .map(|(f, c)| (*f, true, c)),
        )
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut idx = 0usize;
    for (family, malicious, count) in plan {
        let (train, dev) = split_counts(count);
        let mut splits: Vec<&str> = (0..count)
            .map(|i| {
                if i < train {
                    "train"
                } else if i < train + dev {
                    "dev"
                } else {
                    "test"
                }
            })
            .collect();
        splits.shuffle(&mut g.rng);
        for split in splits {
            let flow = make_flow(&mut g, family);
            let meta = FlowMeta {
                source: "synthetic".into(),
                family: family.into(),
                original_label: if malicious {
                    format!("malicious:{family}")
                } else {
                    format!("benign:{family}")
                },
                difficulty: Some(json!(difficulty(family))),
                locator: format!("seed={seed}:i={idx}"),
            };
            out.push(flow_sample(&flow, malicious, &meta, split));
            idx += 1;
        }
    }
    out.shuffle(&mut g.rng);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn generator_is_deterministic() {
        assert_eq!(generate(200, 7, 0.5), generate(200, 7, 0.5));
    }

    #[test]
    fn generator_seeds_differ() {
        assert_ne!(generate(200, 7, 0.5), generate(200, 8, 0.5));
    }

    #[test]
    fn generator_exact_count_and_families() {
        let s = generate(600, 1, 0.5);
        assert_eq!(s.len(), 600);
        let fams: BTreeSet<&str> = s
            .iter()
            .filter_map(|x| x.meta.get("attack_family").and_then(|v| v.as_str()))
            .collect();
        assert!(fams.len() >= 12, "{fams:?}");
        let ids: BTreeSet<&str> = s.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids.len(), 600);
    }

    #[test]
    fn generator_splits_roughly_70_15_15() {
        let s = generate(600, 3, 0.5);
        let frac = |name: &str| s.iter().filter(|x| x.split == name).count() as f64 / 600.0;
        let (tr, dv, te) = (frac("train"), frac("dev"), frac("test"));
        assert!((tr - 0.70).abs() < 0.04, "train {tr}");
        assert!((dv - 0.15).abs() < 0.04, "dev {dv}");
        assert!((te - 0.15).abs() < 0.04, "test {te}");
    }

    #[test]
    fn generator_malicious_share() {
        for (n, share) in [(600usize, 0.5), (101, 0.3), (50, 0.0), (37, 1.0)] {
            let s = generate(n, 11, share);
            assert_eq!(s.len(), n);
            let mal = s
                .iter()
                .filter(|x| x.answer.as_str() == Some("Malicious"))
                .count();
            assert_eq!(mal, (n as f64 * share).round() as usize);
        }
    }
}
