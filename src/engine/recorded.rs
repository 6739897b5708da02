//! An action's result as a run keeps it: one value shared by the step's record and by the
//! variables later steps read it through, cheap to clone. An action whose result has a compact
//! raw form (an HTTP exchange keeps its body bytes and one line per header) gives a renderer
//! instead of a value, and the JSON tree is built only when something reads it: a report, a
//! store, a later step. What an HTTP step sent is kept the same way. A run of a thousand steps
//! then holds a thousand small records rather than a thousand JSON trees, which are several
//! times the size of the bytes they came from. A renderer may come with a few top-level fields
//! known up front (an exchange's method, URL and status), which a report's one-line summary
//! reads without rendering the rest.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A result value, shared, and rendered on first read when it was recorded raw. One
/// allocation holds the value, or the renderer with what it renders from.
#[derive(Clone)]
pub struct Recorded(Arc<dyn Source>);

/// Where a recorded value comes from.
trait Source: Send + Sync {
    fn value(&self) -> &Value;

    /// The top-level field `key`, from the fields known up front when it is one of them.
    fn field(&self, key: &str) -> Option<&Value> {
        self.value().get(key)
    }
}

/// A value recorded as it is.
struct Plain(Value);

impl Source for Plain {
    fn value(&self) -> &Value {
        &self.0
    }
}

/// A value built from what the action kept, by `render`, the first time it is read.
struct Lazy<F> {
    value: OnceLock<Value>,
    /// Taken by the first read.
    render: Mutex<Option<F>>,
    /// Top-level fields of the value, known without rendering it.
    known: Vec<(&'static str, Value)>,
}

impl<F: FnOnce() -> Value + Send> Source for Lazy<F> {
    fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // `get_or_init` runs this once, so the renderer is there; a renderer that panicked
            // on an earlier read leaves `null`.
            let render = self
                .render
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            render.map_or(Value::Null, |render| render())
        })
    }

    fn field(&self, key: &str) -> Option<&Value> {
        match self.known.iter().find(|(name, _)| *name == key) {
            Some((_, value)) => Some(value),
            None => self.value().get(key),
        }
    }
}

impl Recorded {
    /// A result that `render` builds when it is first read. `render` should build the same
    /// value the action handed to the step's assertions.
    pub fn lazy(render: impl FnOnce() -> Value + Send + 'static) -> Self {
        Self::lazy_knowing(Vec::new(), render)
    }

    /// A result that `render` builds when it is first read, with top-level fields `known` up
    /// front: each must be the field `render` builds, which [`Recorded::field`] then reads
    /// without rendering.
    pub fn lazy_knowing(
        known: Vec<(&'static str, Value)>,
        render: impl FnOnce() -> Value + Send + 'static,
    ) -> Self {
        Self(Arc::new(Lazy {
            value: OnceLock::new(),
            render: Mutex::new(Some(render)),
            known,
        }))
    }

    /// The top-level field `key` of the value; read without rendering a lazy value when `key`
    /// was known up front.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.0.field(key)
    }
}

impl From<Value> for Recorded {
    fn from(value: Value) -> Self {
        Self(Arc::new(Plain(value)))
    }
}

impl Deref for Recorded {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.0.value()
    }
}

impl PartialEq for Recorded {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || **self == **other
    }
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for Recorded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Recorded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::json;

    use super::*;

    #[test]
    fn a_lazy_result_is_rendered_once_on_first_read_and_shared_by_its_clones() {
        let renders = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&renders);
        let recorded = Recorded::lazy(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            json!({"status": 200, "body": {"id": 7}})
        });
        let shared = recorded.clone();
        assert_eq!(renders.load(Ordering::SeqCst), 0, "nothing read it yet");
        assert_eq!(shared["body"]["id"], 7);
        assert_eq!(recorded["status"], 200);
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_field_known_up_front_is_read_without_rendering_and_others_render() {
        let renders = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&renders);
        let recorded = Recorded::lazy_knowing(vec![("status", json!(201))], move || {
            counter.fetch_add(1, Ordering::SeqCst);
            json!({"status": 201, "body": "made"})
        });
        assert_eq!(recorded.field("status"), Some(&json!(201)));
        assert_eq!(
            renders.load(Ordering::SeqCst),
            0,
            "a known field renders nothing"
        );
        assert_eq!(recorded.field("body"), Some(&json!("made")));
        assert_eq!(recorded.field("missing"), None);
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        assert_eq!(
            Recorded::from(json!({"status": 500})).field("status"),
            Some(&json!(500))
        );
    }

    #[test]
    fn lazy_and_plain_results_compare_and_serialize_as_their_values() {
        let value = json!({"status": 201, "headers": {"Content-Type": "text/plain"}});
        let copy = value.clone();
        let lazy = Recorded::lazy(move || copy);
        let plain = Recorded::from(value.clone());
        assert_eq!(lazy, plain);
        assert_ne!(lazy, Recorded::from(json!({"status": 500})));
        assert_eq!(serde_json::to_value(&lazy).unwrap(), value);
        let back: Recorded = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(*back, value);
        assert_eq!(format!("{lazy:?}"), format!("{value:?}"));
    }
}
