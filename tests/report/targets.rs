//! `--report KIND=FILE` arguments and writing report files.

use std::path::PathBuf;

use testmesh::report::{ReportKind, ReportTarget, parse_report_arg, write_report};

use crate::fixtures::*;

#[test]
fn parses_both_kinds() {
    assert_eq!(
        parse_report_arg("junit=out/junit.xml"),
        Ok(ReportTarget {
            kind: ReportKind::Junit,
            path: PathBuf::from("out/junit.xml"),
        })
    );
    assert_eq!(
        parse_report_arg("json=report=1.json").map(|t| (t.kind, t.path)),
        Ok((ReportKind::Json, PathBuf::from("report=1.json")))
    );
}

#[test]
fn errors_name_the_value_and_the_kinds() {
    let err = parse_report_arg("xml=out.xml").unwrap_err();
    assert!(
        err.contains("`xml`") && err.contains("junit, json"),
        "{err}"
    );
    let err = parse_report_arg("junit").unwrap_err();
    assert!(
        err.contains("`junit`") && err.contains("KIND=FILE"),
        "{err}"
    );
    let err = parse_report_arg("json=").unwrap_err();
    assert!(err.contains("`json=`") && err.contains("empty"), "{err}");
}

#[test]
fn writes_reports_into_new_directories() {
    let dir = tempfile::tempdir().unwrap();
    let results = all_flows();
    let junit = dir.path().join("a/b/junit.xml");
    write_report(ReportKind::Junit, &junit, &results).unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml, testmesh::report::junit::junit_xml(&results).unwrap());

    let json = dir.path().join("c/report.json");
    write_report(ReportKind::Json, &json, &results).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written, testmesh::report::json::json_report(&results));
}

#[test]
fn io_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    for kind in [ReportKind::Junit, ReportKind::Json] {
        let target = file.join("report.out");
        let err = write_report(kind, &target, &all_flows()).unwrap_err();
        assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
    }
}
