//! `testmesh migrate`: applies the migrations, sets up the storage path, and exits.

use super::exit::Exit;
use super::store_args::StoreArgs;
use crate::store::Store;
use crate::telemetry::{LogFormat, init_logging};

pub async fn migrate(args: StoreArgs, log_format: LogFormat) -> Exit {
    init_logging("migrate", log_format);
    let outcome = async {
        let store = Store::connect(&args.database_url, args.options(2)).await?;
        store.migrate().await
    };
    match outcome.await {
        Ok(mode) => {
            tracing::info!(storage = mode.as_str(), "migrations applied");
            Exit::Passed
        }
        Err(err) => {
            tracing::error!(error = %err, "migrations failed");
            Exit::RuntimeError
        }
    }
}
