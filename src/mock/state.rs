//! Stateful endpoints: named values a mock server keeps, shared by its endpoints, changed by
//! the endpoints that name them (`increment`, `decrement`, `set`) before they answer, and read
//! by response templates as `state.KEY`.

use serde_json::{Map, Value};

use super::error::MockError;
use super::model::{Endpoint, EndpointState};
use super::template::TemplateContext;

/// How a stateful endpoint changes its value.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateRule {
    /// Only read the value.
    Read,
    Increment,
    Decrement,
    /// Set it to this value, whose templates are filled from the request.
    Set(Value),
}

/// The change one endpoint makes to the server's state.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub key: String,
    pub rule: UpdateRule,
}

impl StateChange {
    /// Checks an endpoint's `state`; `field` is the endpoint's place (`endpoints[4]`) and
    /// `summary` names it (`POST /api/counter`) in errors.
    pub fn compile(state: &EndpointState, field: &str, summary: &str) -> Result<Self, MockError> {
        if state.state_key.trim().is_empty() {
            return Err(MockError::invalid(
                format!("{field}.state.state_key"),
                format!("is empty in endpoint {summary}; name the state value"),
            ));
        }
        let rule = match state.update_rule.as_deref().map(str::trim) {
            None | Some("") => UpdateRule::Read,
            Some("increment") => UpdateRule::Increment,
            Some("decrement") => UpdateRule::Decrement,
            Some("set") => match &state.value {
                Some(value) => UpdateRule::Set(value.clone()),
                None => {
                    return Err(MockError::invalid(
                        format!("{field}.state.value"),
                        format!("is required with update_rule \"set\" in endpoint {summary}"),
                    ));
                }
            },
            Some(other) => {
                return Err(MockError::invalid(
                    format!("{field}.state.update_rule"),
                    format!(
                        "{other:?} is not an update rule (endpoint {summary}); use increment, decrement or set, or leave it out to only read the value"
                    ),
                ));
            }
        };
        Ok(Self {
            key: state.state_key.trim().to_string(),
            rule,
        })
    }

    /// Applies the change to `values`; `context` fills the templates of a `set` value. The
    /// error says why a value cannot be counted.
    pub fn apply(
        &self,
        values: &mut Map<String, Value>,
        context: &TemplateContext,
    ) -> Result<(), String> {
        let step = match &self.rule {
            UpdateRule::Read => return Ok(()),
            UpdateRule::Set(value) => {
                values.insert(self.key.clone(), context.render(value));
                return Ok(());
            }
            UpdateRule::Increment => 1,
            UpdateRule::Decrement => -1,
        };
        let current = values.get(&self.key).cloned().unwrap_or(Value::Null);
        let next = match &current {
            Value::Null => Value::from(step),
            Value::Number(number) => match number.as_i64() {
                Some(whole) => Value::from(whole + step),
                None => Value::from(number.as_f64().unwrap_or_default() + step as f64),
            },
            other => {
                return Err(format!(
                    "the state value {:?} is {other}, which cannot be counted up or down",
                    self.key
                ));
            }
        };
        values.insert(self.key.clone(), next);
        Ok(())
    }
}

/// The state values before the first request: each key's `initial_value`, from the first
/// endpoint naming it.
pub fn initial_values(endpoints: &[Endpoint]) -> Map<String, Value> {
    let mut values = Map::new();
    for state in endpoints
        .iter()
        .filter_map(|endpoint| endpoint.state.as_ref())
    {
        values
            .entry(state.state_key.trim().to_string())
            .or_insert_with(|| state.initial_value.clone());
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(value: Value) -> EndpointState {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_bad_update_rule_names_the_value_and_the_endpoint() {
        let err = StateChange::compile(
            &state(json!({"state_key": "counter", "update_rule": "incremnt"})),
            "endpoints[4]",
            "POST /api/counter",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("endpoints[4].state.update_rule: \"incremnt\""),
            "{err}"
        );
        assert!(err.contains("POST /api/counter"), "{err}");
        let missing = StateChange::compile(
            &state(json!({"state_key": "mode", "update_rule": "set"})),
            "endpoints[0]",
            "PUT /mode",
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.starts_with("endpoints[0].state.value: is required"),
            "{missing}"
        );
    }

    #[test]
    fn counting_a_value_that_is_not_a_number_is_an_error() {
        let change = StateChange {
            key: "mode".into(),
            rule: UpdateRule::Increment,
        };
        let mut values = json!({"mode": "on"}).as_object().unwrap().clone();
        let request = crate::mock::RecordedRequest {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: Default::default(),
            body: Default::default(),
            endpoint: None,
            params: Default::default(),
        };
        let context = TemplateContext::new(&request, &values);
        let err = change.apply(&mut values, &context).unwrap_err();
        assert!(err.contains("\"mode\" is \"on\""), "{err}");
    }
}
