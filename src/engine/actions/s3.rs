//! `s3.put`, `s3.get`, `s3.delete`, `s3.list` and `s3.assert` (aliases `minio.*`) against any
//! S3-compatible store, through the `object_store` crate (its S3 client signs the requests):
//! `endpoint` (a URL, or `host:port` with `use_ssl`), `region`, `bucket`, `key` (the original
//! platform's `object`), `access_key` / `secret_key` (or `access_key_id` /
//! `secret_access_key`), `session_token`, `path_style` (default true, as MinIO and most
//! self-hosted stores want) and `timeout`. Clients are built once per store and credentials
//! for the run. `s3.assert` reads the object's properties here; its checks are expressions the
//! runner evaluates (see [`conditions`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt,
    PutOptions, PutPayload, RetryConfig,
};
use serde_json::{Map, Value, json};

use super::fields::{duration, first_text, flag, optional_text, required_text, text_map};
use super::{ActionError, ActionOutput};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_REGION: &str = "us-east-1";

/// The S3 clients of one run, one per store, bucket and credentials.
#[derive(Default)]
pub struct S3Clients {
    clients: Mutex<HashMap<String, Arc<AmazonS3>>>,
    /// Where `file` paths are found.
    base_dir: Option<PathBuf>,
}

impl S3Clients {
    pub fn new(base_dir: Option<PathBuf>) -> Self {
        Self {
            clients: Mutex::default(),
            base_dir,
        }
    }

    /// The client for the store and bucket `config` names, built on first use.
    fn client(&self, config: &Map<String, Value>) -> Result<(Arc<AmazonS3>, String), ActionError> {
        let endpoint = endpoint(config)?;
        let bucket = required_text(config, "bucket")?;
        let region = optional_text(config, "region")?.unwrap_or_else(|| DEFAULT_REGION.into());
        let access_key = first_text(config, &["access_key", "access_key_id"])?.map(|(k, _)| k);
        let secret_key = first_text(config, &["secret_key", "secret_access_key"])?.map(|(k, _)| k);
        let token = optional_text(config, "session_token")?;
        let path_style = flag(config, "path_style", true)?;
        let timeout = duration(config, "timeout", DEFAULT_TIMEOUT)?;
        let id = format!(
            "{endpoint}\n{bucket}\n{region}\n{access_key:?}\n{secret_key:?}\n{token:?}\n{path_style}\n{timeout:?}"
        );
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&id) {
            return Ok((client.clone(), bucket));
        }
        // Client options first: they replace the ones `with_allow_http` sets.
        let mut builder = AmazonS3Builder::new()
            .with_client_options(ClientOptions::new().with_timeout(timeout))
            .with_endpoint(endpoint.clone())
            .with_allow_http(endpoint.starts_with("http://"))
            .with_bucket_name(bucket.clone())
            .with_region(region)
            .with_virtual_hosted_style_request(!path_style)
            .with_retry(RetryConfig {
                max_retries: 1,
                retry_timeout: timeout,
                ..RetryConfig::default()
            });
        match (access_key, secret_key) {
            (Some(access), Some(secret)) => {
                builder = builder
                    .with_access_key_id(access)
                    .with_secret_access_key(secret);
            }
            (None, None) => builder = builder.with_skip_signature(true),
            (Some(_), None) => {
                return Err(ActionError::invalid(
                    "secret_key",
                    "is required with access_key",
                ));
            }
            (None, Some(_)) => {
                return Err(ActionError::invalid(
                    "access_key",
                    "is required with secret_key",
                ));
            }
        }
        if let Some(token) = token {
            builder = builder.with_token(token);
        }
        let client = Arc::new(builder.build().map_err(|err| {
            ActionError::invalid("endpoint", format!("cannot set up an S3 client: {err}"))
        })?);
        clients.insert(id, client.clone());
        Ok((client, bucket))
    }
}

/// The endpoint URL: as written when it has a scheme, else `host:port` behind `http://` or
/// `https://` as `use_ssl` says (the original platform's MinIO keys; default true).
fn endpoint(config: &Map<String, Value>) -> Result<String, ActionError> {
    let text = required_text(config, "endpoint")?;
    let text = text.trim_end_matches('/');
    if text.starts_with("http://") || text.starts_with("https://") {
        return Ok(text.to_string());
    }
    if text.contains("://") {
        return Err(ActionError::invalid(
            "endpoint",
            format!("{text:?}: expected an http(s) URL or host:port"),
        ));
    }
    let scheme = if flag(config, "use_ssl", true)? {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{text}"))
}

/// The object key (`key`, or the original platform's `object`).
fn key(config: &Map<String, Value>) -> Result<(Path, String), ActionError> {
    let (text, field) = first_text(config, &["key", "object"])?
        .ok_or_else(|| ActionError::invalid("key", "is required"))?;
    let path = Path::parse(&text).map_err(|err| {
        ActionError::invalid(field, format!("{text:?} is not an object key: {err}"))
    })?;
    Ok((path, text))
}

/// What the store said went wrong, in its own words: S3's error `Code` and `Message` when the
/// answer carries them.
fn failure(action: &str, target: &str, err: &object_store::Error) -> ActionError {
    let chain = err.to_string();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = chain.find(&open)? + open.len();
        let end = chain[start..].find(&format!("</{name}>"))?;
        Some(chain[start..start + end].to_string())
    };
    let said = match (tag("Code"), tag("Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => chain,
    };
    ActionError::Failed(format!("{action} {target}: {said}"))
}

/// `s3://bucket/key`, for messages.
fn target(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// `s3.put`: stores `body` (text as is; maps and lists as JSON), `body_base64` or `file`
/// (aliases `data`), with `content_type` and `metadata`.
pub async fn put(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<ActionOutput, ActionError> {
    let (client, bucket) = clients.client(config)?;
    let (path, key_text) = key(config)?;
    let (bytes, implied_type) = body(config, clients)?;
    let mut attributes = Attributes::new();
    let content_type = optional_text(config, "content_type")?.or(implied_type.map(str::to_string));
    if let Some(content_type) = &content_type {
        attributes.insert(
            Attribute::ContentType,
            AttributeValue::from(content_type.clone()),
        );
    }
    for (name, text) in text_map(config, "metadata")? {
        attributes.insert(Attribute::Metadata(name.into()), AttributeValue::from(text));
    }
    let size = bytes.len();
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    let target = target(&bucket, &key_text);
    let put = client
        .put_opts(&path, PutPayload::from(bytes), options)
        .await
        .map_err(|err| failure("cannot put", &target, &err))?;
    let result = json!({
        "bucket": bucket,
        "key": key_text,
        "etag": put.e_tag,
        "version": put.version,
        "size": size,
        "content_type": content_type,
    });
    Ok(ActionOutput::from_result(
        result.as_object().cloned().unwrap_or_default(),
    ))
}

/// The bytes to store and the content type they imply (JSON for maps and lists).
fn body(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<(Vec<u8>, Option<&'static str>), ActionError> {
    if let Some(encoded) = optional_text(config, "body_base64")? {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|err| ActionError::invalid("body_base64", format!("is not base64: {err}")))?;
        return Ok((bytes, None));
    }
    if let Some(file) = optional_text(config, "file")? {
        let path = match &clients.base_dir {
            Some(dir) => dir.join(&file),
            None => PathBuf::from(&file),
        };
        let bytes = std::fs::read(&path).map_err(|err| {
            ActionError::invalid("file", format!("cannot read {}: {err}", path.display()))
        })?;
        return Ok((bytes, None));
    }
    for field in ["body", "data"] {
        match config.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => return Ok((text.clone().into_bytes(), None)),
            Some(value @ (Value::Object(_) | Value::Array(_))) => {
                return Ok((value.to_string().into_bytes(), Some("application/json")));
            }
            Some(other) => return Ok((other.to_string().into_bytes(), None)),
        }
    }
    Err(ActionError::invalid(
        "body",
        "is required: set body (or data), body_base64 or file",
    ))
}

/// `s3.get`: the object's `body` (parsed when it is JSON, text when it is UTF-8, else
/// base64; `as: text | json | base64` to choose), `size`, `etag`, `content_type`,
/// `last_modified` and `metadata`.
pub async fn get(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<ActionOutput, ActionError> {
    let (client, bucket) = clients.client(config)?;
    let (path, key_text) = key(config)?;
    let target = target(&bucket, &key_text);
    let got = client
        .get(&path)
        .await
        .map_err(|err| failure("cannot get", &target, &err))?;
    let mut result = properties(&bucket, &key_text, &got.meta, &got.attributes);
    let bytes = got
        .bytes()
        .await
        .map_err(|err| failure("cannot read", &target, &err))?;
    let form = optional_text(config, "as")?;
    let body = match form.as_deref() {
        None => decode(&bytes),
        Some("text") => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        Some("base64") => Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        Some("json") => serde_json::from_slice(&bytes)
            .map_err(|err| ActionError::Failed(format!("{target} is not JSON: {err}")))?,
        Some(other) => {
            return Err(ActionError::invalid(
                "as",
                format!("expected text, json or base64, found {other:?}"),
            ));
        }
    };
    result.insert("body".into(), body);
    Ok(ActionOutput::from_result(result))
}

/// JSON when it parses, else text when it is UTF-8, else base64.
fn decode(bytes: &[u8]) -> Value {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return value;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        Err(_) => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}

/// An object's properties as results show them.
fn properties(
    bucket: &str,
    key: &str,
    meta: &object_store::ObjectMeta,
    attributes: &Attributes,
) -> Map<String, Value> {
    let mut metadata = Map::new();
    let mut content_type = Value::Null;
    for (attribute, value) in attributes.iter() {
        match attribute {
            Attribute::ContentType => content_type = Value::String(value.as_ref().to_string()),
            Attribute::Metadata(name) => {
                metadata.insert(name.to_string(), Value::String(value.as_ref().to_string()));
            }
            _ => {}
        }
    }
    let result = json!({
        "bucket": bucket,
        "key": key,
        "exists": true,
        "size": meta.size,
        "etag": meta.e_tag,
        "last_modified": meta.last_modified.to_rfc3339(),
        "content_type": content_type,
        "metadata": metadata,
    });
    result.as_object().cloned().unwrap_or_default()
}

/// `s3.delete`: removes the object (S3 answers the same whether it existed or not).
pub async fn delete(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<ActionOutput, ActionError> {
    let (client, bucket) = clients.client(config)?;
    let (path, key_text) = key(config)?;
    client
        .delete(&path)
        .await
        .map_err(|err| failure("cannot delete", &target(&bucket, &key_text), &err))?;
    let result = json!({"bucket": bucket, "key": key_text, "deleted": true});
    Ok(ActionOutput::from_result(
        result.as_object().cloned().unwrap_or_default(),
    ))
}

/// `s3.list`: the objects under `prefix` (a folder: `reports/` lists `reports/a.csv`), each
/// with its `key`, `size`, `etag` and `last_modified`; `keys` and `count`.
pub async fn list(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<ActionOutput, ActionError> {
    let (client, bucket) = clients.client(config)?;
    let prefix = optional_text(config, "prefix")?
        .map(|text| {
            Path::parse(text.trim_end_matches('/')).map_err(|err| {
                ActionError::invalid("prefix", format!("{text:?} is not a key prefix: {err}"))
            })
        })
        .transpose()?;
    let metas: Vec<object_store::ObjectMeta> = client
        .list(prefix.as_ref())
        .try_collect()
        .await
        .map_err(|err| failure("cannot list", &format!("s3://{bucket}/"), &err))?;
    let objects: Vec<Value> = metas
        .iter()
        .map(|meta| {
            json!({
                "key": meta.location.as_ref(),
                "size": meta.size,
                "etag": meta.e_tag,
                "last_modified": meta.last_modified.to_rfc3339(),
            })
        })
        .collect();
    let keys: Vec<Value> = metas
        .iter()
        .map(|meta| Value::String(meta.location.to_string()))
        .collect();
    let result =
        json!({"bucket": bucket, "count": objects.len(), "keys": keys, "objects": objects});
    Ok(ActionOutput::from_result(
        result.as_object().cloned().unwrap_or_default(),
    ))
}

/// One look of `s3.assert`: the object's properties, or `exists: false` when there is none.
pub async fn inspect(
    config: &Map<String, Value>,
    clients: &S3Clients,
) -> Result<ActionOutput, ActionError> {
    let (client, bucket) = clients.client(config)?;
    let (path, key_text) = key(config)?;
    let options = GetOptions {
        head: true,
        ..GetOptions::default()
    };
    let result = match client.get_opts(&path, options).await {
        Ok(found) => properties(&bucket, &key_text, &found.meta, &found.attributes),
        Err(object_store::Error::NotFound { .. }) => {
            let missing = json!({"bucket": bucket, "key": key_text, "exists": false, "size": null,
                "etag": null, "content_type": null, "metadata": {}});
            missing.as_object().cloned().unwrap_or_default()
        }
        Err(err) => return Err(failure("cannot read", &target(&bucket, &key_text), &err)),
    };
    Ok(ActionOutput::from_result(result))
}

/// The checks `s3.assert`'s own keys ask for, as expressions over [`inspect`]'s result:
/// `exists` (default true), `size`, `size_gte`, `content_type` and `metadata` (each entry).
pub fn conditions(config: &Map<String, Value>) -> Result<Vec<String>, ActionError> {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let mut out = vec![format!("exists == {}", flag(config, "exists", true)?)];
    if !flag(config, "exists", true)? {
        return Ok(out);
    }
    if let Some(size) = super::fields::count(config, "size", 0)? {
        out.push(format!("size == {size}"));
    }
    if let Some(size) = super::fields::count(config, "size_gte", 0)? {
        out.push(format!("size >= {size}"));
    }
    if let Some(content_type) = optional_text(config, "content_type")? {
        out.push(format!("content_type == {}", quoted(&content_type)));
    }
    for (name, text) in text_map(config, "metadata")? {
        out.push(format!("metadata[{}] == {}", quoted(&name), quoted(&text)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_original_platforms_endpoint_and_ssl_flag_make_a_url() {
        let minio = config(json!({"endpoint": "minio:9000", "use_ssl": false}));
        assert_eq!(endpoint(&minio).unwrap(), "http://minio:9000");
        let secure = config(json!({"endpoint": "s3.example.com"}));
        assert_eq!(endpoint(&secure).unwrap(), "https://s3.example.com");
        let url = config(json!({"endpoint": "http://127.0.0.1:9000/", "use_ssl": true}));
        assert_eq!(endpoint(&url).unwrap(), "http://127.0.0.1:9000");
        let err = endpoint(&config(json!({"endpoint": "ftp://x"}))).unwrap_err();
        assert!(err.to_string().contains("config.endpoint"), "{err}");
    }

    #[test]
    fn assert_keys_become_expressions() {
        let checks = conditions(&config(json!({
            "size_gte": 3, "content_type": "text/csv", "metadata": {"owner": "qa"}
        })))
        .unwrap();
        assert_eq!(
            checks,
            vec![
                "exists == true",
                "size >= 3",
                "content_type == \"text/csv\"",
                "metadata[\"owner\"] == \"qa\""
            ]
        );
        let absent = conditions(&config(json!({"exists": false, "size": 3}))).unwrap();
        assert_eq!(absent, vec!["exists == false"]);
    }
}
