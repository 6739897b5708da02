//! Keeps a panic in one action from taking the whole run with it: the step ends in error
//! with the panic's message, and the run goes on (teardown included) as after any other
//! error. A panic is a TestMesh bug; the message says so, so that it gets reported. (A panic
//! in the runner itself, between actions, ends the run: see `run_flow`.)

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use super::actions::ActionError;
use crate::flow::actions::ActionKind;

/// Runs `action`; a panic inside it becomes an [`ActionError`] that names the action.
///
/// A plain function rather than an `async fn`: an `async fn` would keep `action` twice in its
/// state (the argument, and the copy being polled), and every step's future holds this one.
pub fn contain<T>(
    kind: ActionKind,
    action: impl Future<Output = Result<T, ActionError>>,
) -> impl Future<Output = Result<T, ActionError>> {
    // A panicked action's state is dropped with it; what survives (the run's variables and
    // results) is only changed between actions, so it stays consistent.
    AssertUnwindSafe(action).catch_unwind().map(move |caught| {
        caught.unwrap_or_else(|payload| {
            Err(ActionError::Failed(internal_error(
                &format!("the {kind} action"),
                payload.as_ref(),
            )))
        })
    })
}

/// What a user reads when `what` panicked.
pub fn internal_error(what: &str, payload: &(dyn Any + Send)) -> String {
    format!(
        "{what} stopped on an internal error: {} (a TestMesh bug: please report it)",
        panic_message(payload)
    )
}

/// The text a panic was raised with, when it was raised with text.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_action_becomes_an_error_that_names_it() {
        let outcome = contain(ActionKind::HttpRequest, async {
            let index = std::hint::black_box(3);
            let items: Vec<u8> = Vec::new();
            Ok::<u8, ActionError>(items[index])
        })
        .await;
        let Err(ActionError::Failed(message)) = outcome else {
            panic!("expected a failure, got {outcome:?}")
        };
        assert!(
            message.starts_with(
                "the http_request action stopped on an internal error: index out of bounds"
            ),
            "{message}"
        );
        assert!(message.ends_with("(a TestMesh bug: please report it)"));
    }

    #[tokio::test]
    async fn an_action_that_does_not_panic_is_untouched() {
        let outcome = contain(ActionKind::Log, async { Ok::<_, ActionError>(7) }).await;
        assert_eq!(outcome.ok(), Some(7));
    }

    #[test]
    fn messages_come_from_text_payloads_of_either_kind() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42_u8), "no message");
    }
}
