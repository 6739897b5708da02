//! The audit trail: one log line per API request (a JSON line where logs are JSON, as in a pod)
//! under the target `testmesh::audit`, saying who asked (user and groups), what (verb and path),
//! about which namespace, whether it was allowed, and the status answered. Tokens are never
//! part of it.

/// The log target of audit lines, to filter them (`RUST_LOG=testmesh::audit=info`).
pub const AUDIT_TARGET: &str = "testmesh::audit";

/// Whether a request got what it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// One request, as the audit trail tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord<'a> {
    /// None when nobody signed in (no auth, a static token, or a refused one).
    pub user: Option<&'a str>,
    pub groups: &'a [String],
    pub verb: &'a str,
    pub path: &'a str,
    /// The namespace asked about (a filter, a flow's path, or the one refused), when any.
    pub namespace: Option<&'a str>,
    pub decision: Decision,
    pub status: u16,
}

impl AuditRecord<'_> {
    /// Writes the line.
    pub fn log(&self) {
        tracing::info!(
            target: AUDIT_TARGET,
            user = self.user,
            groups = %self.groups.join(","),
            verb = self.verb,
            path = self.path,
            namespace = self.namespace,
            decision = self.decision.as_str(),
            status = self.status,
            "api request"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_is_one_json_line_with_every_field() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        let groups = vec!["team-a".to_string(), "system:authenticated".to_string()];
        tracing::subscriber::with_default(subscriber, || {
            AuditRecord {
                user: Some("alice"),
                groups: &groups,
                verb: "GET",
                path: "/api/v1/executions",
                namespace: Some("billing"),
                decision: Decision::Deny,
                status: 403,
            }
            .log();
        });
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["target"], AUDIT_TARGET);
        assert_eq!(line["user"], "alice");
        assert_eq!(line["groups"], "team-a,system:authenticated");
        assert_eq!(line["verb"], "GET");
        assert_eq!(line["path"], "/api/v1/executions");
        assert_eq!(line["namespace"], "billing");
        assert_eq!(line["decision"], "deny");
        assert_eq!(line["status"], 403);
    }
}
