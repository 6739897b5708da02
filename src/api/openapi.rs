//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers and response types
//! (utoipa) and served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    actions, catalog, draft_runs, environments, error, executions, flaky, flows, live, overview,
    schedules, session, trends, validation,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TestMesh API",
        description = "History, trends, flaky flows and live runs of TestMesh flows, and the flow \
                       editor's action catalogue and validator. JSON in \
                       camelCase; errors are {\"error\": {\"code\", \"message\"}}."
    ),
    paths(
        flows::list, flows::get,
        executions::list, executions::get,
        live::run_events, live::live,
        trends::get, flaky::get,
        schedules::list, environments::list,
        overview::get, session::get, openapi_json,
        actions::list, validation::validate, draft_runs::start,
    ),
    components(schemas(
        error::ErrorBody, error::ErrorDetail,
        flows::FlowList, flows::FlowListItem, catalog::FlowCondition, flows::FlowDetail, flows::RunSummary,
        executions::Execution, executions::ExecutionPage, executions::ExecutionDetail,
        executions::ExecutionStep, executions::AssertionOutcome,
        trends::Trends, trends::TrendBucket,
        flaky::FlakyReport, flaky::FlakyFlow,
        schedules::ScheduleList, schedules::Schedule,
        environments::EnvironmentList, environments::Environment, environments::SecretRef,
        overview::Overview, overview::FailingFlow, session::Session,
        actions::ActionCatalogue, actions::ActionGroupInfo, actions::ActionInfo, actions::ActionKey,
        validation::ValidationReport, validation::PlacedDiagnostic,
        draft_runs::DraftRunRequest, draft_runs::DraftRun,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Declares the bearer token (a Kubernetes token, or the static one).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
