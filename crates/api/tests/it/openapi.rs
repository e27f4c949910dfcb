//! The OpenAPI document: it lists exactly the routes of `ENDPOINTS`, declares
//! OpenAPI 3.1, and hangs together (every `$ref` resolves, every path
//! parameter is declared, every operation answers, operation ids are
//! unique); the Swagger UI page needs nothing from the network.

use std::collections::{BTreeSet, HashSet};

use accord_api::ENDPOINTS;
use accord_testkit::TestDb;
use serde_json::Value;

use crate::support::World;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(w: &World) -> Value {
    let r = w.anon("GET", "/api/v1/openapi.json").send().await;
    r.expect(200).clone()
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_exists() {
    let db = TestDb::sqlite().await;
    let w = World::new(&db).await;
    let doc = document(&w).await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut table = BTreeSet::new();
    for e in ENDPOINTS {
        assert!(
            table.insert((e.method.to_owned(), e.path.to_owned())),
            "{} {} is twice in ENDPOINTS",
            e.method,
            e.path
        );
    }
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let unlisted: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty(),
        "in ENDPOINTS, not in the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unlisted.is_empty(),
        "in the OpenAPI document, not in ENDPOINTS: {unlisted:?}"
    );
    // And every documented route is served: no 404 or 405 from the router
    // itself (a route that exists answers something else without a token).
    for (method, path) in &documented {
        let concrete = path
            .replace("{id}", "0190a5e0-0000-7000-8000-000000000000")
            .replace("{version}", "1");
        let r = w.anon(method, &concrete).send().await;
        assert!(
            r.status != 405 && !(r.status == 404 && r.body.is_empty()),
            "{method} {path} is documented but not routed: {}",
            r.status
        );
    }
    // The Swagger UI serves the same document.
    let r = w.anon("GET", "/api/v1/docs/openapi.json").send().await;
    assert_eq!(r.expect(200), &doc);
    db.finish().await;
}

/// Every `$ref` in `v`, with where it was found.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref"
                    && let Some(s) = x.as_str()
                {
                    out.push((at.clone(), s));
                }
                refs(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                refs(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Resolves a local JSON pointer (`#/components/schemas/Person`).
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(&pointer.replace("~1", "/").replace("~0", "~"))
        .or_else(|| doc.pointer(pointer))
}

/// The `{name}`s of a path template.
fn template_params(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_hangs_together() {
    let db = TestDb::sqlite().await;
    let w = World::new(&db).await;
    let doc = document(&w).await;
    let mut problems: Vec<String> = Vec::new();

    let version = doc["openapi"].as_str().unwrap_or_default();
    if !version.starts_with("3.1.") {
        problems.push(format!("openapi is {version:?}, not 3.1.x"));
    }
    for field in ["title", "version"] {
        if doc["info"][field].as_str().is_none_or(str::is_empty) {
            problems.push(format!("info.{field} is missing"));
        }
    }
    let declared_tags: HashSet<&str> = doc["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();

    // Every reference resolves, and points at something.
    let mut all = Vec::new();
    refs(&doc, String::new(), &mut all);
    assert!(
        !all.is_empty(),
        "a document without references is suspicious"
    );
    for (at, r) in &all {
        if !r.starts_with("#/") {
            problems.push(format!("{at}: external reference {r}"));
        } else if resolve(&doc, r).is_none_or(|v| v.is_null()) {
            problems.push(format!("{at}: {r} does not resolve"));
        }
    }

    let mut operation_ids: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with('/') {
            problems.push(format!("path {path} does not start with /"));
        }
        let in_template = template_params(path);
        let path_level: Vec<Value> = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                if method != "parameters" && method != "summary" && method != "description" {
                    problems.push(format!("{path}: unknown key {method}"));
                }
                continue;
            }
            let here = format!("{} {path}", method.to_uppercase());
            match op["operationId"].as_str() {
                Some(id) if !id.is_empty() => operation_ids.push(id.to_owned()),
                _ => problems.push(format!("{here}: no operationId")),
            }
            // Responses: at least one, each a status code or `default`,
            // each with a description.
            match op["responses"].as_object() {
                Some(rs) if !rs.is_empty() => {
                    for (code, resp) in rs {
                        let ok_code = code == "default"
                            || (code.len() == 3
                                && code.chars().all(|c| c.is_ascii_digit() || c == 'X')
                                && ('1'..='5').contains(&code.chars().next().unwrap_or('0')));
                        if !ok_code {
                            problems.push(format!("{here}: response {code:?} is not a status"));
                        }
                        let resp = match resp.get("$ref").and_then(Value::as_str) {
                            Some(r) => resolve(&doc, r).unwrap_or(&Value::Null),
                            None => resp,
                        };
                        if resp["description"].as_str().is_none() {
                            problems.push(format!("{here}: response {code} has no description"));
                        }
                    }
                }
                _ => problems.push(format!("{here}: no responses")),
            }
            // Parameters: well-formed, no duplicates, and the path ones are
            // exactly the template's.
            let params: Vec<Value> = op["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .chain(path_level.iter().cloned())
                .collect();
            let mut seen = HashSet::new();
            let mut in_path = BTreeSet::new();
            for p in &params {
                let p = match p.get("$ref").and_then(Value::as_str) {
                    Some(r) => resolve(&doc, r).cloned().unwrap_or(Value::Null),
                    None => p.clone(),
                };
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                let location = p["in"].as_str().unwrap_or_default().to_owned();
                if name.is_empty() {
                    problems.push(format!("{here}: a parameter without a name"));
                }
                if !["query", "header", "path", "cookie"].contains(&location.as_str()) {
                    problems.push(format!("{here}: parameter {name} is in {location:?}"));
                }
                if p.get("schema").is_none() && p.get("content").is_none() {
                    problems.push(format!("{here}: parameter {name} has no schema"));
                }
                if !seen.insert((name.clone(), location.clone())) {
                    problems.push(format!("{here}: parameter {name} in {location} twice"));
                }
                if location == "path" {
                    if p["required"] != Value::Bool(true) {
                        problems.push(format!("{here}: path parameter {name} is not required"));
                    }
                    in_path.insert(name);
                }
            }
            if in_path != in_template {
                problems.push(format!(
                    "{here}: path parameters {in_path:?}, template has {in_template:?}"
                ));
            }
            if let Some(body) = op.get("requestBody") {
                if body["content"].as_object().is_none_or(|c| c.is_empty()) {
                    problems.push(format!("{here}: a request body without content"));
                }
                if method == "get" || method == "delete" {
                    problems.push(format!("{here}: a request body on {method}"));
                }
            }
            for t in op["tags"].as_array().into_iter().flatten() {
                let t = t.as_str().unwrap_or_default();
                if !declared_tags.contains(t) {
                    problems.push(format!("{here}: tag {t} is not declared"));
                }
            }
        }
    }
    let mut unique = HashSet::new();
    for id in &operation_ids {
        if !unique.insert(id) {
            problems.push(format!("operationId {id} is used twice"));
        }
    }
    // Schemas have a type, a composition or a reference.
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        let keys = [
            "type", "$ref", "oneOf", "anyOf", "allOf", "enum", "const", "not",
        ];
        if !keys.iter().any(|k| s.get(*k).is_some()) {
            problems.push(format!("schema {name} has no type"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    db.finish().await;
}

#[tokio::test]
async fn the_swagger_ui_page_needs_no_network() {
    let db = TestDb::sqlite().await;
    let w = World::new(&db).await;
    let redirect = w.anon("GET", "/api/v1/docs").send().await;
    assert!(redirect.status.is_redirection(), "{}", redirect.status);
    let page = w.anon("GET", "/api/v1/docs/").send().await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    // Every asset the page loads is same-origin, and served.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            assets.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert!(assets.len() >= 4, "{assets:?}");
    for a in &assets {
        assert!(
            !a.contains("//") && !a.starts_with("data:") && !a.is_empty(),
            "the page loads {a} from elsewhere"
        );
        let path = format!("/api/v1/docs/{}", a.trim_start_matches("./"));
        let r = w.anon("GET", &path).send().await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.len() > 100, "{path} is empty");
    }
    // The initializer loads the document from this server, and does not
    // ask swagger.io's online validator about it.
    let init = w
        .anon("GET", "/api/v1/docs/swagger-initializer.js")
        .send()
        .await;
    assert_eq!(init.status, 200);
    let js = String::from_utf8(init.body.to_vec()).unwrap();
    assert!(js.contains("\"/api/v1/docs/openapi.json\""), "{js}");
    assert!(!js.contains("http://") && !js.contains("https://"), "{js}");
    assert!(js.contains("\"validatorUrl\": \"none\""), "{js}");
    db.finish().await;
}
