//! `contract_generate` with `steps`: the runner holds the run's recorded exchanges, so it turns
//! the named HTTP steps (already run, passed or not) into Pact interactions for the action.

use serde_json::{Map, Value};

use super::Run;
use crate::engine::actions::{ActionError, ActionOutput, contract};

impl Run<'_> {
    pub(super) fn generate_contract(
        &self,
        config: &Map<String, Value>,
    ) -> Result<ActionOutput, ActionError> {
        let mut recorded = Vec::new();
        for (index, wanted) in crate::engine::actions::fields::list(config, "steps")
            .iter()
            .enumerate()
        {
            let field = format!("steps[{index}]");
            let Value::String(id) = wanted else {
                return Err(ActionError::invalid(
                    field,
                    format!("expected a step id, found {wanted}"),
                ));
            };
            let step = self
                .steps
                .iter()
                .find(|step| &step.id == id)
                .ok_or_else(|| {
                    ActionError::invalid(&field, format!("no step `{id}` ran before this one"))
                })?;
            let attempt = step.last_attempt();
            let exchange = attempt.and_then(|attempt| {
                let request = attempt.request.as_deref()?;
                let response = attempt.response.as_deref()?;
                let description = step.name.as_deref().unwrap_or(id);
                contract::interaction_from_step(description, request, response)
            });
            recorded.push(exchange.ok_or_else(|| {
                ActionError::invalid(
                    &field,
                    format!("step `{id}` ({}) recorded no HTTP exchange", step.action),
                )
            })?);
        }
        contract::generate(config, recorded, &self.session)
    }
}
