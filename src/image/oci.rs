//! Canonical OCI JSON (config, manifest, index) and digests: pure functions of their inputs, so
//! the same image always gets the same bytes and digests.
//!
//! The documents are oci-spec's types ([`ImageConfiguration`], [`ImageManifest`],
//! [`ImageIndex`], [`Descriptor`], [`Platform`]); their bytes are always [`canonical`]: compact
//! JSON with every object's keys sorted, so neither oci-spec's field order nor its hash maps
//! (labels, port and volume sets, annotations) ever reach a digest. The one field the OCI config
//! lacks, docker's `Healthcheck`, rides beside oci-spec's `config` object ([`ConfigDoc`]).

use std::collections::HashMap;

use oci_spec::image::{
    Arch as OciArch, Config, Descriptor, Digest, HistoryBuilder, ImageConfiguration,
    ImageConfigurationBuilder, ImageIndex, ImageIndexBuilder, ImageManifest, ImageManifestBuilder,
    MediaType, Os, Platform, PlatformBuilder, RootFsBuilder,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::ImageConfig;
use crate::arch::Arch;

pub(crate) use oci_spec::image::ANNOTATION_REF_NAME;
/// The content of the `oci-layout` file.
pub(crate) const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// The schema version of every manifest and index.
const SCHEMA_VERSION: u32 = 2;
/// What a builder of ours can miss: nothing, every required field is always set.
const BUILT: &str = "every required field is set";

pub(crate) use crate::digest::sha256;

/// A JSON document as the exact bytes that get hashed and written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    /// The canonical bytes of `doc` and their digest.
    pub fn of(doc: &impl Serialize) -> Blob {
        let bytes = to_canonical(doc);
        Blob {
            digest: sha256(&bytes),
            bytes,
        }
    }

    pub fn descriptor(&self, media_type: MediaType) -> Descriptor {
        Descriptor::new(media_type, self.bytes.len() as u64, digest(&self.digest))
    }
}

/// A `sha256:HEX` digest that this crate computed, as oci-spec's type.
pub(crate) fn digest(computed: &str) -> Digest {
    computed
        .parse()
        .unwrap_or_else(|e| panic!("`{computed}` is not a digest: {e}"))
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

/// The [`canonical`] bytes of a document.
pub(crate) fn to_canonical(doc: &impl Serialize) -> Vec<u8> {
    canonical(&serde_json::to_value(doc).expect("an OCI document serialises"))
}

/// The OCI platform of an arch (`linux`, its OCI arch and variant from the arch table).
pub(crate) fn platform(arch: Arch) -> Platform {
    let info = arch.info();
    let mut p = PlatformBuilder::default()
        .architecture(OciArch::from(info.oci_arch))
        .os(Os::Linux)
        .build()
        .expect(BUILT);
    p.set_variant(info.oci_variant.map(str::to_string));
    p
}

/// Seconds since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00Z`). RFC 3339 years have four
/// digits: a time after `9999-12-30T22:00:00Z` (the last jiff holds) is written as that.
pub fn rfc3339(epoch: u64) -> String {
    let max = jiff::Timestamp::MAX.as_second();
    let secs = i64::try_from(epoch).map_or(max, |s| s.min(max));
    jiff::Timestamp::from_second(secs)
        .expect("a second within jiff's range")
        .to_string()
}

/// The image config we write: oci-spec's configuration, whose `config` object also carries
/// docker's `Healthcheck` (podman and docker honour it; the OCI spec has no field for it).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConfigDoc {
    /// Everything but `config` (left `None` here).
    #[serde(flatten)]
    pub image: ImageConfiguration,
    pub config: RunConfig,
}

/// The `config` object of [`ConfigDoc`].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunConfig {
    #[serde(flatten)]
    pub oci: Config,
    #[serde(rename = "Healthcheck", skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<DockerHealthcheck>,
}

/// Docker's `Healthcheck`: durations in nanoseconds, `Test` in exec form (`["CMD", ...]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerHealthcheck {
    test: Vec<String>,
    interval: u64,
    timeout: u64,
    start_period: u64,
    retries: u32,
}

impl From<&super::Healthcheck> for DockerHealthcheck {
    fn from(h: &super::Healthcheck) -> Self {
        const NS: u64 = 1_000_000_000;
        DockerHealthcheck {
            test: ["CMD".to_string()]
                .into_iter()
                .chain(h.argv.clone())
                .collect(),
            interval: h.interval_secs * NS,
            timeout: h.timeout_secs * NS,
            start_period: h.start_period_secs * NS,
            retries: h.retries,
        }
    }
}

/// `Some(items)` unless empty: an empty list is left out of the config.
fn unless_empty(items: &[String]) -> Option<Vec<String>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// The run-time part of the config: every field of `cfg` that is set.
fn run_config(cfg: &ImageConfig) -> Config {
    let mut c = Config::default();
    c.set_user((!cfg.user.is_empty()).then(|| cfg.user.clone()))
        .set_entrypoint(unless_empty(&cfg.entrypoint))
        .set_cmd(unless_empty(&cfg.cmd))
        .set_env(unless_empty(&cfg.env))
        .set_working_dir(cfg.workdir.clone())
        .set_exposed_ports(unless_empty(&cfg.exposed_ports))
        .set_volumes(unless_empty(&cfg.volumes))
        .set_labels((!cfg.labels.is_empty()).then(|| cfg.labels.clone().into_iter().collect()));
    c
}

/// The image config (application/vnd.oci.image.config.v1+json) of a one-layer image: created
/// at `cfg.created_epoch`, its one history entry `created_by`.
pub(crate) fn config(arch: Arch, cfg: &ImageConfig, diff_id: &str, created_by: &str) -> ConfigDoc {
    let created = rfc3339(cfg.created_epoch);
    let p = platform(arch);
    let mut image = ImageConfigurationBuilder::default()
        .created(created.clone())
        .architecture(p.architecture().clone())
        .os(p.os().clone())
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![diff_id.to_string()])
                .build()
                .expect(BUILT),
        )
        .history(vec![
            HistoryBuilder::default()
                .created(created)
                .created_by(created_by)
                .build()
                .expect(BUILT),
        ])
        .build()
        .expect(BUILT);
    image.set_variant(p.variant().clone());
    ConfigDoc {
        image,
        config: RunConfig {
            oci: run_config(cfg),
            healthcheck: cfg.healthcheck.as_ref().map(DockerHealthcheck::from),
        },
    }
}

/// The image manifest (application/vnd.oci.image.manifest.v1+json) of a one-layer image.
pub(crate) fn manifest(config: Descriptor, layer: Descriptor) -> ImageManifest {
    ImageManifestBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(vec![layer])
        .build()
        .expect(BUILT)
}

/// An image index (application/vnd.oci.image.index.v1+json) of these descriptors.
pub(crate) fn index(manifests: Vec<Descriptor>) -> ImageIndex {
    ImageIndexBuilder::default()
        .schema_version(SCHEMA_VERSION)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .expect(BUILT)
}

/// `desc` with the ref-name annotation `tag`.
pub(crate) fn tagged(mut desc: Descriptor, tag: &str) -> Descriptor {
    desc.set_annotations(Some(HashMap::from([(
        ANNOTATION_REF_NAME.to_string(),
        tag.to_string(),
    )])));
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
    use serde_json::json;

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
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-30T22:00:00Z");
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
        let bytes = to_canonical(&c);
        // Stable across calls and round trips through a parser.
        assert_eq!(to_canonical(&c), bytes);
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(canonical(&back), bytes);
        let s = String::from_utf8(bytes).unwrap();
        assert!(s.contains(r#""Labels":{"a":"2","z":"1"}"#), "{s}");
        assert!(s.contains(r#""ExposedPorts":{"6379/tcp":{}}"#), "{s}");
    }

    /// The exact bytes of a config with every field set: the form every image digest rests on.
    #[test]
    fn config_bytes_are_pinned() {
        let mut c = cfg();
        c.created_epoch = 1_700_000_000;
        c.healthcheck = Some(super::super::Healthcheck {
            argv: vec!["/bin/check".into()],
            interval_secs: 30,
            timeout_secs: 5,
            start_period_secs: 2,
            retries: 3,
        });
        let bytes = to_canonical(&config(Arch::Armv7, &c, "sha256:ab", "recipe build x 1"));
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            concat!(
                r#"{"architecture":"arm","config":{"Cmd":["--port","6379"],"#,
                r#""Entrypoint":["/usr/local/bin/redis-server"],"#,
                r#""Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"#,
                r#""ExposedPorts":{"6379/tcp":{}},"#,
                r#""Healthcheck":{"Interval":30000000000,"Retries":3,"#,
                r#""StartPeriod":2000000000,"Test":["CMD","/bin/check"],"Timeout":5000000000},"#,
                r#""Labels":{"a":"2","z":"1"},"User":"1000:1000","Volumes":{"/data":{}},"#,
                r#""WorkingDir":"/data"},"created":"2023-11-14T22:13:20Z","#,
                r#""history":[{"created":"2023-11-14T22:13:20Z","created_by":"recipe build x 1"}],"#,
                r#""os":"linux","rootfs":{"diff_ids":["sha256:ab"],"type":"layers"},"variant":"v7"}"#,
            )
        );
        let empty = ImageConfig {
            user: String::new(),
            env: Vec::new(),
            ..ImageConfig::default()
        };
        let bytes = to_canonical(&config(Arch::Amd64, &empty, "sha256:ab", "x"));
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            concat!(
                r#"{"architecture":"amd64","config":{},"created":"1970-01-01T00:00:00Z","#,
                r#""history":[{"created":"1970-01-01T00:00:00Z","created_by":"x"}],"#,
                r#""os":"linux","rootfs":{"diff_ids":["sha256:ab"],"type":"layers"}}"#,
            )
        );
    }

    #[test]
    fn config_manifest_index_parse_with_oci_spec() {
        let c = config(
            Arch::Armv7,
            &cfg(),
            "sha256:abc",
            "recipe build redis 7.0.15",
        );
        let cb = Blob::of(&c);
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

        let amd: Value = serde_json::from_slice(
            &Blob::of(&config(Arch::Amd64, &cfg(), "sha256:abc", "x")).bytes,
        )
        .unwrap();
        assert!(amd.get("variant").is_none());

        let layer = Descriptor::new(
            MediaType::ImageLayerGzip,
            123,
            digest(&format!("sha256:{}", "1".repeat(64))),
        );
        let cb = Blob {
            bytes: cb.bytes,
            digest: format!("sha256:{}", "2".repeat(64)),
        };
        let m = Blob::of(&manifest(cb.descriptor(MediaType::ImageConfig), layer));
        let pm = ImageManifest::from_reader(m.bytes.as_slice()).unwrap();
        assert_eq!(pm.schema_version(), 2);
        assert_eq!(pm.layers()[0].size(), 123);
        let mut md = Blob {
            bytes: m.bytes,
            digest: format!("sha256:{}", "3".repeat(64)),
        }
        .descriptor(MediaType::ImageManifest);
        md.set_platform(Some(platform(Arch::Armv7)));
        let i = Blob::of(&index(vec![md]));
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
