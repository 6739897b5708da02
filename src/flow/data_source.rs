//! Data-driven runs: a flow's `data_source` (a CSV or JSON/YAML file relative to the flow file,
//! or else to the current directory; an inline list of rows, or `{file}` / `{rows}`) turns one
//! flow into one case per row. Each case is the flow named after its row, with the row's fields
//! as variables that win over the flow's own `env` (which then only gives defaults).

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::FlowSpec;
use super::source::parse_documents;

/// The most characters of a row shown in a case's name.
const LABEL_LIMIT: usize = 60;

/// One row of a data source, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct DataCase {
    /// The flow to run: the original, renamed `name [row N: a=1, b=x]`, without `env` entries
    /// the row sets.
    pub spec: FlowSpec,
    /// The row's fields, to add to the run's variables.
    pub variables: IndexMap<String, Value>,
}

/// The cases of `spec`: one per row when it has a `data_source`, else the flow itself.
pub fn cases(spec: &FlowSpec, base_dir: Option<&Path>) -> Result<Vec<DataCase>, String> {
    let Some(source) = &spec.data_source else {
        return Ok(vec![DataCase {
            spec: spec.clone(),
            variables: IndexMap::new(),
        }]);
    };
    let rows = rows_of(source, base_dir)?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let mut case = spec.clone();
            case.data_source = None;
            case.name = format!("{} [{}]", spec.name, label(index, &row));
            for name in row.keys() {
                case.env.shift_remove(name);
            }
            DataCase {
                spec: case,
                variables: row.into_iter().collect(),
            }
        })
        .collect())
}

/// The rows a data source holds, each a map of field to value.
pub fn rows_of(source: &Value, base_dir: Option<&Path>) -> Result<Vec<Map<String, Value>>, String> {
    let rows = match source {
        Value::String(file) => read_file(file, base_dir)?,
        Value::Array(items) => items.clone(),
        Value::Object(map) => {
            match (map.get("file").or_else(|| map.get("path")), map.get("rows")) {
                (Some(Value::String(file)), _) => read_file(file, base_dir)?,
                (_, Some(Value::Array(items))) => items.clone(),
                _ => {
                    return Err(
                    "data_source is a file path, a list of rows, or a map with `file` or `rows`"
                        .into(),
                );
                }
            }
        }
        other => {
            return Err(format!(
                "data_source: expected a file path or a list of rows, found {other}"
            ));
        }
    };
    if rows.is_empty() {
        return Err("data_source has no rows".into());
    }
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| match row {
            Value::Object(map) => Ok(map),
            other => Err(format!(
                "data_source row {}: expected a map of field: value, found {other}",
                index + 1
            )),
        })
        .collect()
}

/// The file a data source reads, when it names one.
pub fn file_of(source: &Value, base_dir: Option<&Path>) -> Option<PathBuf> {
    let file = match source {
        Value::String(file) => file,
        Value::Object(map) => map.get("file").or_else(|| map.get("path"))?.as_str()?,
        _ => return None,
    };
    Some(locate(file, base_dir))
}

/// Where a data file is: relative to the flow file's folder, else (as the original platform
/// resolved it) relative to the current directory; an absolute path as it is.
fn locate(file: &str, base_dir: Option<&Path>) -> PathBuf {
    let beside_flow = base_dir.map(|dir| dir.join(file));
    match beside_flow {
        Some(path) if !path.exists() && Path::new(file).exists() => PathBuf::from(file),
        Some(path) => path,
        None => PathBuf::from(file),
    }
}

fn read_file(file: &str, base_dir: Option<&Path>) -> Result<Vec<Value>, String> {
    let path = locate(file, base_dir);
    let text = std::fs::read_to_string(&path).map_err(|err| {
        let also = match base_dir {
            Some(_) if Path::new(file).is_relative() => {
                " (looked for it beside the flow file, then in the current directory)"
            }
            _ => "",
        };
        format!("cannot read data_source {}: {err}{also}", path.display())
    })?;
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        return parse_csv(&text).map_err(|err| format!("data_source {}: {err}", path.display()));
    }
    let document = parse_documents(&text)
        .map_err(|err| format!("data_source {}: {}", path.display(), err.message))?
        .into_iter()
        .next()
        .map(|doc| doc.value);
    match document {
        Some(Value::Array(rows)) => Ok(rows),
        _ => Err(format!(
            "data_source {}: expected a list of rows",
            path.display()
        )),
    }
}

/// CSV with a header line: quoted fields (`""` for a quote), commas and newlines inside quotes.
/// Numbers and `true`/`false` become typed values; everything else is text.
fn parse_csv(text: &str) -> Result<Vec<Value>, String> {
    let records = csv_records(text)?;
    let mut records = records
        .into_iter()
        .filter(|r| !(r.len() == 1 && r[0].is_empty()));
    let Some(header) = records.next() else {
        return Err("no header line".into());
    };
    records
        .enumerate()
        .map(|(index, record)| {
            if record.len() != header.len() {
                return Err(format!(
                    "line {} has {} fields, the header has {}",
                    index + 2,
                    record.len(),
                    header.len()
                ));
            }
            let row: Map<String, Value> = header
                .iter()
                .zip(record)
                .map(|(name, text)| (name.trim().to_string(), typed(&text)))
                .collect();
            Ok(Value::Object(row))
        })
        .collect()
}

fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

fn typed(text: &str) -> Value {
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => {
            if let Ok(int) = text.parse::<i64>() {
                return Value::from(int);
            }
            if let Some(number) = text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                && text.contains('.')
            {
                return Value::Number(number);
            }
            Value::String(text.to_string())
        }
    }
}

/// `row 2: sku=A-1, qty=2`, cut to a readable length.
fn label(index: usize, row: &Map<String, Value>) -> String {
    let fields: Vec<String> = row
        .iter()
        .map(|(name, value)| match value {
            Value::String(text) => format!("{name}={text}"),
            other => format!("{name}={other}"),
        })
        .collect();
    let mut text = format!("row {}: {}", index + 1, fields.join(", "));
    if text.chars().count() > LABEL_LIMIT {
        text = text.chars().take(LABEL_LIMIT - 1).collect::<String>() + "…";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_rows_are_typed_and_quotes_are_honoured() {
        let rows = parse_csv("sku,qty,note,ok\r\nA-1,2,\"hello, \"\"world\"\"\",true\nB-2,0.5,\"two\nlines\",false\n").unwrap();
        assert_eq!(
            rows,
            [
                json!({"sku": "A-1", "qty": 2, "note": "hello, \"world\"", "ok": true}),
                json!({"sku": "B-2", "qty": 0.5, "note": "two\nlines", "ok": false}),
            ]
        );
        assert!(
            parse_csv("a,b\n1\n")
                .unwrap_err()
                .contains("line 2 has 1 fields")
        );
    }

    #[test]
    fn each_row_is_a_case_named_after_it() {
        let spec = FlowSpec {
            name: "Orders".into(),
            env: [("sku".to_string(), "default".to_string())]
                .into_iter()
                .collect(),
            data_source: Some(json!([{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": 3}])),
            ..FlowSpec::default()
        };
        let cases = cases(&spec, None).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].spec.name, "Orders [row 2: sku=B-2, qty=3]");
        assert!(cases[1].spec.env.is_empty());
        assert_eq!(cases[1].variables["qty"], json!(3));
    }
}
