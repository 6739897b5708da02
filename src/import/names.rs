//! Names an import makes up: step ids and variable names in snake_case, unique within a flow,
//! and file names for the flows it writes.

use std::collections::HashSet;

/// `createPet`, `GET /pets/{id}` and `User Signup!` as `create_pet`, `get_pets_id` and
/// `user_signup`: lowercase letters, digits and `_`, never starting with a digit.
pub fn snake_case(text: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() && previous_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            previous_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    match trimmed.chars().next() {
        None => String::new(),
        Some(first) if first.is_ascii_digit() => format!("n{trimmed}"),
        Some(_) => trimmed.to_string(),
    }
}

/// Hands out names that are unique among those it gave: `login`, then `login_2`.
#[derive(Debug, Default)]
pub struct UniqueNames(HashSet<String>);

impl UniqueNames {
    /// The snake_case form of `wanted` (or `fallback` when that is empty), made unique.
    pub fn take(&mut self, wanted: &str, fallback: &str) -> String {
        let mut base = snake_case(wanted);
        if base.is_empty() {
            base = fallback.to_string();
        }
        let mut name = base.clone();
        let mut counter = 2;
        while !self.0.insert(name.clone()) {
            name = format!("{base}_{counter}");
            counter += 1;
        }
        name
    }
}

/// The file a flow is written to: its name in snake_case with `.yaml`.
pub fn file_name(flow_name: &str) -> String {
    let stem = snake_case(flow_name);
    if stem.is_empty() {
        "flow.yaml".into()
    } else {
        format!("{stem}.yaml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case() {
        assert_eq!(snake_case("createPet"), "create_pet");
        assert_eq!(snake_case("GET /pets/{petId}"), "get_pets_pet_id");
        assert_eq!(
            snake_case("User Signup — happy path!"),
            "user_signup_happy_path"
        );
        assert_eq!(snake_case("2fa"), "n2fa");
        assert_eq!(snake_case("***"), "");
    }

    #[test]
    fn repeated_names_get_a_counter() {
        let mut names = UniqueNames::default();
        assert_eq!(names.take("Login", "step"), "login");
        assert_eq!(names.take("login", "step"), "login_2");
        assert_eq!(names.take("", "step"), "step");
        assert_eq!(names.take("!!", "step"), "step_2");
    }
}
