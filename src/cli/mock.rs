//! `testmesh mock FILE`: serves a mock definition on 127.0.0.1 until Ctrl-C.

use std::path::Path;

use super::exit::Exit;

pub async fn mock(file: &Path, port: Option<u16>) -> Exit {
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match crate::mock::serve_file(file, port, shutdown).await {
        Ok(()) => Exit::Passed,
        Err(err) => {
            eprintln!("error: {err}");
            Exit::InvalidInput
        }
    }
}
