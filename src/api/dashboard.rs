//! The dashboard's static export served at `/`: files from `--dashboard-dir`, `index.html` for
//! folder paths (the export uses trailing slashes: `/flows/view/` is `flows/view/index.html`,
//! and `/flows/view` redirects there), the export's `404.html` for anything else. When the
//! folder has no `index.html`, every page answers a short note saying how to build it.

use std::path::Path;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Html;
use tower_http::services::{ServeDir, ServeFile};

/// The routes that serve the dashboard from `dir`.
pub fn routes(dir: &Path) -> Router {
    if dir.join("index.html").is_file() {
        let files = ServeDir::new(dir)
            .append_index_html_on_directories(true)
            .not_found_service(ServeFile::new(dir.join("404.html")));
        return Router::new().fallback_service(files);
    }
    let note = missing_note(dir);
    Router::new().fallback(move || {
        let note = note.clone();
        async move { (StatusCode::NOT_FOUND, Html(note)) }
    })
}

fn missing_note(dir: &Path) -> String {
    let dir = html_escape(&dir.display().to_string());
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TestMesh API</title>\
         </head><body style=\"font-family: sans-serif; max-width: 40rem; margin: 3rem auto\">\
         <h1>The dashboard is not installed</h1>\
         <p>This TestMesh API serves the dashboard from <code>{dir}</code>, which has no \
         <code>index.html</code>.</p>\
         <p>Build it with <code>cd dashboard &amp;&amp; npm ci &amp;&amp; npm run build</code> and \
         start the API with <code>--dashboard-dir dashboard/out</code> (or set \
         <code>TESTMESH_DASHBOARD_DIR</code>).</p>\
         <p>The API itself answers under <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p>\
         </body></html>"
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
