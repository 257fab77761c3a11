//! Canonical OCI JSON (config, manifest, index) and digests: pure functions of their inputs, so
//! the same image always gets the same bytes and digests.

use serde_json::{Map, Value, json};

use super::ImageConfig;
use crate::arch::Arch;

pub(crate) const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const MEDIA_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub(crate) const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// The content of the `oci-layout` file.
pub(crate) const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

pub(crate) use crate::digest::sha256;

/// A JSON document as the exact bytes that get hashed and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    pub fn json(value: &Value) -> Blob {
        let bytes = canonical(value);
        Blob {
            digest: sha256(&bytes),
            bytes,
        }
    }

    pub fn descriptor(&self, media_type: &str) -> Value {
        descriptor(media_type, &self.digest, self.bytes.len() as u64)
    }
}

/// Compact JSON with every object's keys sorted, whatever map serde_json was built with.
pub(crate) fn canonical(value: &Value) -> Vec<u8> {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            v => v.clone(),
        }
    }
    serde_json::to_vec(&sort(value)).expect("a JSON value always serialises")
}

/// An OCI content descriptor.
pub(crate) fn descriptor(media_type: &str, digest: &str, size: u64) -> Value {
    json!({ "mediaType": media_type, "digest": digest, "size": size })
}

/// The OCI platform object of an arch.
pub(crate) fn platform(arch: Arch) -> Value {
    let info = arch.info();
    let mut p = json!({ "architecture": info.oci_arch, "os": "linux" });
    if let Some(v) = info.oci_variant {
        p["variant"] = json!(v);
    }
    p
}

/// Seconds since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub fn rfc3339(epoch: u64) -> String {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `["a", "b"]` -> `{"a": {}, "b": {}}`, the OCI form of port and volume sets.
fn set(items: &[String]) -> Value {
    Value::Object(items.iter().map(|i| (i.clone(), json!({}))).collect())
}

/// The image config (application/vnd.oci.image.config.v1+json) of a one-layer image.
pub(crate) fn config(arch: Arch, cfg: &ImageConfig, diff_id: &str, created_by: &str) -> Value {
    let created = rfc3339(cfg.created_epoch);
    let mut c = Map::new();
    if !cfg.user.is_empty() {
        c.insert("User".into(), json!(cfg.user));
    }
    if !cfg.entrypoint.is_empty() {
        c.insert("Entrypoint".into(), json!(cfg.entrypoint));
    }
    if !cfg.cmd.is_empty() {
        c.insert("Cmd".into(), json!(cfg.cmd));
    }
    if !cfg.env.is_empty() {
        c.insert("Env".into(), json!(cfg.env));
    }
    if let Some(w) = &cfg.workdir {
        c.insert("WorkingDir".into(), json!(w));
    }
    if !cfg.exposed_ports.is_empty() {
        c.insert("ExposedPorts".into(), set(&cfg.exposed_ports));
    }
    if !cfg.volumes.is_empty() {
        c.insert("Volumes".into(), set(&cfg.volumes));
    }
    if !cfg.labels.is_empty() {
        c.insert("Labels".into(), json!(cfg.labels));
    }
    if let Some(h) = &cfg.healthcheck {
        const NS: u64 = 1_000_000_000;
        let mut test = vec!["CMD".to_string()];
        test.extend(h.argv.iter().cloned());
        c.insert(
            "Healthcheck".into(),
            json!({
                "Test": test,
                "Interval": h.interval_secs * NS,
                "Timeout": h.timeout_secs * NS,
                "StartPeriod": h.start_period_secs * NS,
                "Retries": h.retries,
            }),
        );
    }
    let mut v = platform(arch);
    v["created"] = json!(created);
    v["config"] = Value::Object(c);
    v["rootfs"] = json!({ "type": "layers", "diff_ids": [diff_id] });
    v["history"] = json!([{ "created": created, "created_by": created_by }]);
    v
}

/// The image manifest (application/vnd.oci.image.manifest.v1+json) of a one-layer image.
pub(crate) fn manifest(config: &Value, layer: &Value) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": config,
        "layers": [layer],
    })
}

/// An image index (application/vnd.oci.image.index.v1+json) of these descriptors.
pub(crate) fn index(manifests: Vec<Value>) -> Value {
    json!({ "schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests })
}

/// `desc` with the ref-name annotation `tag`.
pub(crate) fn tagged(mut desc: Value, tag: &str) -> Value {
    desc["annotations"] = json!({ ANNOTATION_REF_NAME: tag });
    desc
}

/// True when `tag` is a valid OCI ref name (the grammar of the image-layout spec: components
/// of letters and digits joined by `-._:@/+`, or runs of `-`).
pub(crate) fn valid_tag(tag: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let sep = |c: char| "-._:@/+".contains(c);
    !tag.is_empty()
        && tag.len() <= 255
        && tag.chars().all(|c| alnum(c) || sep(c))
        && tag.starts_with(alnum)
        && tag.ends_with(alnum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest, MediaType};

    fn cfg() -> ImageConfig {
        let mut c = ImageConfig {
            entrypoint: vec!["/usr/local/bin/redis-server".into()],
            cmd: vec!["--port".into(), "6379".into()],
            workdir: Some("/data".into()),
            exposed_ports: vec!["6379/tcp".into()],
            volumes: vec!["/data".into()],
            ..ImageConfig::default()
        };
        c.labels.insert("z".into(), "1".into());
        c.labels.insert("a".into(), "2".into());
        c
    }

    #[test]
    fn media_types_match_oci_spec() {
        assert_eq!(MEDIA_CONFIG, MediaType::ImageConfig.as_ref());
        assert_eq!(MEDIA_MANIFEST, MediaType::ImageManifest.as_ref());
        assert_eq!(MEDIA_INDEX, MediaType::ImageIndex.as_ref());
        assert_eq!(MEDIA_LAYER_GZIP, MediaType::ImageLayerGzip.as_ref());
        assert_eq!(ANNOTATION_REF_NAME, oci_spec::image::ANNOTATION_REF_NAME);
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn canonical_json_sorts_keys_and_is_compact() {
        let v = json!({"b": 1, "a": {"d": [ {"y": 1, "x": 2} ], "c": null}});
        assert_eq!(
            canonical(&v),
            br#"{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}"#
        );
        let c = config(
            Arch::Armv7,
            &cfg(),
            "sha256:00",
            "recipe build redis 7.0.15",
        );
        let bytes = canonical(&c);
        // Stable across calls and round trips through a parser.
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(canonical(&back), bytes);
        let s = String::from_utf8(bytes).unwrap();
        assert!(s.contains(r#""Labels":{"a":"2","z":"1"}"#), "{s}");
        assert!(s.contains(r#""ExposedPorts":{"6379/tcp":{}}"#), "{s}");
    }

    #[test]
    fn config_manifest_index_parse_with_oci_spec() {
        let c = config(
            Arch::Armv7,
            &cfg(),
            "sha256:abc",
            "recipe build redis 7.0.15",
        );
        let cb = Blob::json(&c);
        let parsed = ImageConfiguration::from_reader(cb.bytes.as_slice()).unwrap();
        assert_eq!(parsed.architecture().to_string(), "arm");
        assert_eq!(parsed.variant().as_deref(), Some("v7"));
        assert_eq!(parsed.created().as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(parsed.rootfs().diff_ids(), &vec!["sha256:abc".to_string()]);
        let inner = parsed.config().as_ref().unwrap();
        assert_eq!(inner.user().as_deref(), Some("1000:1000"));
        assert_eq!(inner.working_dir().as_deref(), Some("/data"));
        let hist = parsed.history().as_ref().unwrap();
        assert_eq!(
            hist[0].created_by().as_deref(),
            Some("recipe build redis 7.0.15")
        );

        let amd = config(Arch::Amd64, &cfg(), "sha256:abc", "x");
        assert!(amd.get("variant").is_none());

        let layer = descriptor(MEDIA_LAYER_GZIP, &format!("sha256:{}", "1".repeat(64)), 123);
        let cb = Blob {
            bytes: cb.bytes,
            digest: format!("sha256:{}", "2".repeat(64)),
        };
        let m = Blob::json(&manifest(&cb.descriptor(MEDIA_CONFIG), &layer));
        let pm = ImageManifest::from_reader(m.bytes.as_slice()).unwrap();
        assert_eq!(pm.schema_version(), 2);
        assert_eq!(pm.layers()[0].size(), 123);
        let mut md = Blob {
            bytes: m.bytes,
            digest: format!("sha256:{}", "3".repeat(64)),
        }
        .descriptor(MEDIA_MANIFEST);
        md["platform"] = platform(Arch::Armv7);
        let i = Blob::json(&index(vec![md]));
        let pi = ImageIndex::from_reader(i.bytes.as_slice()).unwrap();
        let p = pi.manifests()[0].platform().as_ref().unwrap();
        assert_eq!(p.variant().as_deref(), Some("v7"));
    }

    #[test]
    fn tags() {
        for t in ["latest", "7.0.15", "redis-7.0.15-r1", "a/b:c"] {
            assert!(valid_tag(t), "{t}");
        }
        for t in ["", "-x", "x-", "a b", "ä", "x\n"] {
            assert!(!valid_tag(t), "{t:?}");
        }
    }
}
