//! Connection strings: which database they point at, where, and how to show them without the
//! password.

use url::Url;

use crate::engine::actions::ActionError;

/// The database families `database_query` speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    MySql,
}

impl Dialect {
    pub fn label(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL",
        }
    }
}

/// A parsed connection string.
#[derive(Debug, Clone)]
pub struct Dsn {
    pub dialect: Dialect,
    /// The string as given, for connecting.
    pub text: String,
    /// The string with its password replaced by `***`, for messages.
    pub masked: String,
    /// `host:port`, for messages.
    pub address: String,
}

impl Dsn {
    /// Reads a `postgres://`, `postgresql://`, `mysql://` or `mariadb://` URL.
    pub fn parse(text: &str) -> Result<Self, ActionError> {
        let url = Url::parse(text).map_err(|err| {
            ActionError::invalid(
                "connection",
                format!(
                    "{err}: expected a URL such as postgres://user:password@host:5432/db or mysql://user:password@host:3306/db"
                ),
            )
        })?;
        let (dialect, default_port) = match url.scheme() {
            "postgres" | "postgresql" => (Dialect::Postgres, 5432),
            "mysql" | "mariadb" => (Dialect::MySql, 3306),
            other => {
                return Err(ActionError::invalid(
                    "connection",
                    format!(
                        "unsupported scheme `{other}://`: use postgres://, postgresql://, mysql:// or mariadb://"
                    ),
                ));
            }
        };
        let mut masked = url.clone();
        if masked.password().is_some() {
            let _ = masked.set_password(Some("***"));
        }
        let host = url.host_str().unwrap_or("localhost");
        let port = url.port().unwrap_or(default_port);
        let mut connect = url.clone();
        if url.scheme() == "mariadb" {
            let rest = &text["mariadb".len()..];
            connect = Url::parse(&format!("mysql{rest}")).unwrap_or(connect);
        }
        Ok(Self {
            dialect,
            text: connect.to_string(),
            masked: masked.to_string(),
            address: format!("{host}:{port}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_address_named() {
        let dsn = Dsn::parse("postgres://app:s3cret@db.local/orders").unwrap();
        assert_eq!(dsn.dialect, Dialect::Postgres);
        assert_eq!(dsn.masked, "postgres://app:***@db.local/orders");
        assert_eq!(dsn.address, "db.local:5432");
        assert!(!dsn.masked.contains("s3cret"));
        let dsn = Dsn::parse("mariadb://root:pw@127.0.0.1:3307/test").unwrap();
        assert_eq!(dsn.dialect, Dialect::MySql);
        assert!(dsn.text.starts_with("mysql://"));
        assert_eq!(dsn.address, "127.0.0.1:3307");
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = Dsn::parse("sqlite://file.db").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme `sqlite://`"), "{err}");
    }
}
