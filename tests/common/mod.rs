//! Helpers shared by the integration tests.

// Each test binary uses a different part of these helpers.
#[allow(dead_code)]
pub mod cli_process;
#[allow(dead_code)]
pub mod executor_process;
#[allow(dead_code)]
pub mod fake_kafka;
#[allow(dead_code)]
pub mod fake_kube;
#[allow(dead_code)]
pub mod fake_loki;
#[allow(dead_code)]
pub mod fake_traces;
#[allow(dead_code)]
pub mod flows;
#[allow(dead_code)]
pub mod grpc_server;
#[allow(dead_code)]
pub mod http_server;
#[allow(dead_code)]
pub mod own_services;
#[allow(dead_code)]
pub mod services;
#[allow(dead_code)]
pub mod ws_server;
