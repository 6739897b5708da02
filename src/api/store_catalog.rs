//! The catalog as the store knows it: every flow that has runs other than drafts (with the spec
//! of its latest run), the schedules runs were started by (name, flow and last time; the store
//! does not keep cron expressions, so next runs are empty), and the environments runs used (by name, with the
//! flows that used them; variables and secret references live in the cluster only).

use futures::FutureExt;
use futures::future::BoxFuture;
use indexmap::IndexMap;
use serde_json::Value;

use super::catalog::{CatalogFlow, FlowCatalog};
use super::environments::Environment;
use super::error::ApiError;
use super::schedules::Schedule;
use super::scope::Scope;
use crate::store::Store;

/// [`FlowCatalog`] over `executions.runs`.
#[derive(Debug, Clone)]
pub struct StoreCatalog {
    pub store: Store,
}

type FlowRow = (String, String, Value);

fn flow_of((namespace, name, spec): FlowRow) -> CatalogFlow {
    CatalogFlow {
        namespace,
        name,
        spec,
        conditions: Vec::new(),
    }
}

impl FlowCatalog for StoreCatalog {
    fn flows<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<CatalogFlow>, ApiError>> {
        async move {
            let rows: Vec<FlowRow> = sqlx::query_as(
                "SELECT DISTINCT ON (namespace, flow_name) namespace, flow_name, spec \
                 FROM executions.runs WHERE ($1::text[] IS NULL OR namespace = ANY($1)) AND NOT draft \
                 ORDER BY namespace, flow_name, queued_at DESC",
            )
            .bind(scope.sql())
            .fetch_all(self.store.pool())
            .await
            .map_err(ApiError::query("list flows"))?;
            Ok(rows.into_iter().map(flow_of).collect())
        }
        .boxed()
    }

    fn flow<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<CatalogFlow>, ApiError>> {
        async move {
            let row: Option<FlowRow> = sqlx::query_as(
                "SELECT namespace, flow_name, spec FROM executions.runs \
                 WHERE namespace = $1 AND flow_name = $2 AND NOT draft ORDER BY queued_at DESC LIMIT 1",
            )
            .bind(namespace)
            .bind(name)
            .fetch_optional(self.store.pool())
            .await
            .map_err(ApiError::query("read a flow"))?;
            Ok(row.map(flow_of))
        }
        .boxed()
    }

    fn schedules<'a>(&'a self, scope: &'a Scope) -> BoxFuture<'a, Result<Vec<Schedule>, ApiError>> {
        async move {
            let rows: Vec<(
                String,
                String,
                String,
                Option<chrono::DateTime<chrono::Utc>>,
            )> = sqlx::query_as(
                "SELECT trigger_detail #>> '{schedule,namespace}', \
                     trigger_detail #>> '{schedule,name}', flow_name, max(queued_at) \
                     FROM executions.runs WHERE trigger = 'schedule' \
                     AND trigger_detail #>> '{schedule,name}' IS NOT NULL \
                     AND trigger_detail #>> '{schedule,namespace}' IS NOT NULL \
                     AND ($1::text[] IS NULL OR namespace = ANY($1)) \
                     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            )
            .bind(scope.sql())
            .fetch_all(self.store.pool())
            .await
            .map_err(ApiError::query("list schedules"))?;
            Ok(rows
                .into_iter()
                .map(|(namespace, name, flow, last)| Schedule {
                    namespace,
                    name,
                    schedules: Vec::new(),
                    time_zone: None,
                    suspended: false,
                    flow,
                    next_runs: Vec::new(),
                    last_schedule_time: last,
                })
                .collect())
        }
        .boxed()
    }

    fn namespaces(&self) -> BoxFuture<'_, Result<Vec<String>, ApiError>> {
        async move {
            // A skip scan over the (namespace, flow_name, queued_at) index: one probe per
            // namespace rather than a pass over every run.
            let rows: Vec<(String,)> = sqlx::query_as(
                "WITH RECURSIVE seen AS ( \
                   (SELECT namespace FROM executions.runs ORDER BY namespace LIMIT 1) \
                   UNION ALL \
                   SELECT (SELECT namespace FROM executions.runs r \
                           WHERE r.namespace > seen.namespace ORDER BY namespace LIMIT 1) \
                   FROM seen WHERE seen.namespace IS NOT NULL) \
                 SELECT namespace FROM seen WHERE namespace IS NOT NULL",
            )
            .fetch_all(self.store.pool())
            .await
            .map_err(ApiError::query("list namespaces"))?;
            Ok(rows.into_iter().map(|(namespace,)| namespace).collect())
        }
        .boxed()
    }

    fn environments<'a>(
        &'a self,
        scope: &'a Scope,
    ) -> BoxFuture<'a, Result<Vec<Environment>, ApiError>> {
        async move {
            let rows: Vec<(String, String, Vec<String>)> = sqlx::query_as(
                "SELECT namespace, environment, array_agg(DISTINCT flow_name ORDER BY flow_name) \
                 FROM executions.runs WHERE environment IS NOT NULL \
                 AND ($1::text[] IS NULL OR namespace = ANY($1)) \
                 GROUP BY 1, 2 ORDER BY 1, 2",
            )
            .bind(scope.sql())
            .fetch_all(self.store.pool())
            .await
            .map_err(ApiError::query("list environments"))?;
            Ok(rows
                .into_iter()
                .map(|(namespace, name, flows)| Environment {
                    namespace,
                    name,
                    variables: IndexMap::new(),
                    secret_refs: Vec::new(),
                    flows,
                })
                .collect())
        }
        .boxed()
    }
}
