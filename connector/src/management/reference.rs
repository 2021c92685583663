//! `GET /api/v1/docs`: the management API's reference as one HTML page, rendered on the server from the same
//! OpenAPI document `/api/v1/openapi.json` serves: operations by tag with their role, parameters, bodies (with
//! examples) and answers, then every schema. No script, font or style sheet is fetched from anywhere, so it reads
//! the same on a connector without network access; the content security policy says so to the browser.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Access;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem 2rem;color:#1b1f24}\
h1,h2,h3{line-height:1.25}h2{border-bottom:1px solid #ccd;padding-bottom:.2rem;margin-top:2.5rem}\
article{border:1px solid #dde;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}\
code,pre{font:13px ui-monospace,monospace;background:#f3f4f6;border-radius:4px}code{padding:0 .25rem}\
pre{padding:.6rem;overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.4rem 0}\
th,td{border:1px solid #dde;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f7f9}\
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;font-weight:600;\
font-size:13px;padding:0 .3rem;margin-right:.4rem}.get{background:#2f6fb0}.post{background:#2e8540}\
.put{background:#a86b00}.delete{background:#b3261e}.patch{background:#6b4fa0}.role{color:#555}\
nav ul{columns:2;list-style:none;padding-left:0}";

/// The reference page, public like the document it renders.
pub async fn page(State(access): State<Access>) -> Response {
    let html = render(&super::openapi::served(&access));
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        html,
    )
        .into_response()
}

/// Escapes text for HTML element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped prose, with the document's `code` spans set as code.
fn prose(text: &str) -> String {
    esc(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An anchor id made of `prefix` and `name`'s letters and digits.
fn anchor(prefix: &str, name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{tail}")
}

/// A schema in a few words: a link for a named schema, `array of …`, alternatives joined by `or`.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#{}\">{}</a>", anchor("schema", name), esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema.get(key).and_then(Value::as_array) {
            let joiner = if key == "allOf" { " and " } else { " or " };
            return parts.iter().map(type_of).collect::<Vec<_>>().join(joiner);
        }
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return "any".into();
    }
    let shown: Vec<String> = types
        .iter()
        .map(|t| match t.as_str() {
            "array" => format!(
                "array of {}",
                schema.get("items").map_or("any".into(), type_of)
            ),
            t => match schema.get("format").and_then(Value::as_str) {
                Some(f) => format!("{} ({})", esc(t), esc(f)),
                None => esc(t),
            },
        })
        .collect();
    let mut out = shown.join(" or ");
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| esc(&v.to_string())).collect();
        out.push_str(&format!(": one of {}", values.join(", ")));
    }
    out
}

/// The page for `doc`, an OpenAPI 3.1 document.
pub fn render(doc: &Value) -> String {
    let info = &doc["info"];
    let title = esc(text(info, "title"));
    let mut out = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{title} <small>{}</small></h1>\n<p>{}</p>\n\
         <p>The same description as OpenAPI 3.1: <a href=\"openapi.json\">openapi.json</a>.</p>\n",
        esc(text(info, "version")),
        prose(text(info, "description"))
    );
    let operations = operations_by_tag(doc);
    out.push_str("<nav><h2>Operations</h2>\n");
    for (tag, _, ops) in &operations {
        out.push_str(&format!(
            "<h3><a href=\"#{}\">{}</a></h3><ul>\n",
            anchor("tag", tag),
            esc(tag)
        ));
        for (path, method, op) in ops {
            out.push_str(&format!(
                "<li><a href=\"#{}\"><span class=\"m {method}\">{}</span><code>{}</code></a> {}</li>\n",
                anchor("op", text(op, "operationId")),
                method.to_uppercase(),
                esc(path),
                esc(text(op, "summary"))
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h3><a href=\"#schemas\">Schemas</a></h3></nav>\n<main>\n");
    for (tag, description, ops) in &operations {
        out.push_str(&format!(
            "<section id=\"{}\"><h2>{}</h2><p>{}</p>\n",
            anchor("tag", tag),
            esc(tag),
            prose(description)
        ));
        for (path, method, op) in ops {
            out.push_str(&operation(path, method, op));
        }
        out.push_str("</section>\n");
    }
    out.push_str(&schemas(doc));
    out.push_str("</main></body></html>\n");
    out
}

type Operations<'a> = Vec<(String, String, Vec<(&'a str, &'a str, &'a Value)>)>;

/// The operations grouped by their first tag, in the document's tag order (untagged last), each group in path order.
fn operations_by_tag(doc: &Value) -> Operations<'_> {
    let mut groups: Operations<'_> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                text(t, "name").to_string(),
                text(t, "description").to_string(),
                Vec::new(),
            )
        })
        .collect();
    let Some(paths) = doc["paths"].as_object() else {
        return groups;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let at = match groups.iter().position(|(t, _, _)| *t == tag) {
                Some(i) => i,
                None => {
                    groups.push((tag, String::new(), Vec::new()));
                    groups.len() - 1
                }
            };
            groups[at].2.push((path.as_str(), method, op));
        }
    }
    groups.retain(|(_, _, ops)| !ops.is_empty());
    groups
}

/// The roles an operation's `security` requirement names.
fn roles(op: &Value) -> Vec<String> {
    let mut out: Vec<String> = op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|req| req.values())
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    out.dedup();
    out
}

fn operation(path: &str, method: &str, op: &Value) -> String {
    let mut out = format!(
        "<article id=\"{}\"><h3><span class=\"m {method}\">{}</span><code>{}</code></h3>\n<p><strong>{}</strong></p>\n<p>{}</p>\n",
        anchor("op", text(op, "operationId")),
        method.to_uppercase(),
        esc(path),
        prose(text(op, "summary")),
        prose(text(op, "description"))
    );
    let roles = roles(op);
    out.push_str(&format!(
        "<p class=\"role\">Operation id <code>{}</code>; {}</p>\n",
        esc(text(op, "operationId")),
        if roles.is_empty() {
            "no token needed".to_string()
        } else {
            format!("role: {}", esc(&roles.join(", ")))
        }
    ));
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th><th>Description</th></tr>\n");
        for p in params {
            out.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(text(p, "name")),
                esc(text(p, "in")),
                type_of(&p["schema"]),
                if p["required"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                prose(text(p, "description"))
            ));
        }
        out.push_str("</table>\n");
    }
    if let Some(body) = op.get("requestBody") {
        let required = body["required"].as_bool() == Some(true);
        out.push_str(&format!(
            "<h4>Request body ({})</h4><p>{}</p>\n",
            if required { "required" } else { "optional" },
            prose(text(body, "description"))
        ));
        for (media, content) in body["content"].as_object().into_iter().flatten() {
            out.push_str(&format!(
                "<p><code>{}</code>: {}</p>\n",
                esc(media),
                type_of(&content["schema"])
            ));
            if let Some(example) = content.get("example") {
                let pretty = serde_json::to_string_pretty(example).unwrap_or_default();
                out.push_str(&format!("<pre>{}</pre>\n", esc(&pretty)));
            }
        }
    }
    out.push_str(
        "<h4>Responses</h4><table><tr><th>Status</th><th>Description</th><th>Body</th></tr>\n",
    );
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let bodies: Vec<String> = response["content"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, c)| format!("<code>{}</code> {}", esc(media), type_of(&c["schema"])))
            .collect();
        let headers: Vec<String> = response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, h)| {
                format!(
                    "<br><code>{}</code>: {}",
                    esc(name),
                    prose(text(h, "description"))
                )
            })
            .collect();
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}{}</td><td>{}</td></tr>\n",
            esc(status),
            prose(text(response, "description")),
            headers.concat(),
            bodies.join("<br>")
        ));
    }
    out.push_str("</table></article>\n");
    out
}

fn schemas(doc: &Value) -> String {
    let mut out = String::from("<section id=\"schemas\"><h2>Schemas</h2>\n");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "<article id=\"{}\"><h3>{}</h3><p>{}</p>\n",
            anchor("schema", name),
            esc(name),
            prose(text(schema, "description"))
        ));
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        match schema["properties"].as_object() {
            Some(props) if !props.is_empty() => {
                out.push_str("<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>\n");
                for (field, p) in props {
                    out.push_str(&format!(
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        esc(field),
                        type_of(p),
                        if required.contains(&field.as_str()) {
                            "yes"
                        } else {
                            "no"
                        },
                        prose(text(p, "description"))
                    ));
                }
                out.push_str("</table>\n");
            }
            _ => out.push_str(&format!("<p>{}</p>\n", type_of(schema))),
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_schemas_and_examples_are_rendered_escaped() {
        let doc = json!({
            "info": {"title": "T <api>", "version": "1", "description": "Lists use `limit`."},
            "tags": [{"name": "things", "description": "Things & more"}],
            "paths": {"/api/v1/things": {
                "get": {"tags": ["things"], "operationId": "list_things", "summary": "List things",
                    "description": "All <things>.", "security": [{"bearer": ["viewer"]}],
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32"}, "description": "rows"}],
                    "responses": {"200": {"description": "The things", "headers": {"Link": {"description": "next page"}},
                        "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}}}}},
                "post": {"tags": ["things"], "operationId": "create_thing", "summary": "Create a thing", "description": "d",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}, "example": {"id": "<x>"}}}},
                    "responses": {"201": {"description": "Created"}}}}},
            "components": {"schemas": {"Thing": {"description": "A thing", "type": "object", "required": ["id"],
                "properties": {"id": {"type": "string"}, "tags": {"type": ["array", "null"], "items": {"type": "string"}}}}}}
        });
        let html = render(&doc);
        assert!(html.contains("<title>T &lt;api&gt;</title>"));
        assert!(html.contains("Lists use <code>limit</code>."));
        assert!(html.contains("href=\"#op-list_things\""));
        assert!(html.contains("All &lt;things&gt;."));
        assert!(html.contains("role: viewer"));
        assert!(html.contains("integer (int32)"));
        assert!(html.contains("array of <a href=\"#schema-Thing\">Thing</a>"));
        assert!(html.contains("<code>Link</code>: next page"));
        assert!(html.contains("Request body (required)"));
        assert!(html.contains("&quot;id&quot;: &quot;&lt;x&gt;&quot;"));
        assert!(html.contains("<article id=\"schema-Thing\">"));
        assert!(html.contains("array of string or null"));
        assert!(!html.contains("<script"));
    }
}
