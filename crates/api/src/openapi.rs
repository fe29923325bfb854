//! The OpenAPI 3.1 document, generated from the endpoint table and the types it names:
//! for every endpoint its parameters (query for GET, a body for POST), the envelope
//! `{ret_code, err_msg, data}` around its output, and every error status a caller can
//! meet, from the one error table. The gateway serves it at `/api/openapi.json`.

use std::any::TypeId;

use serde_json::Value;
use tars_proto::ERROR_TABLE;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, ResponsesBuilder,
};
use utoipa::ToSchema;

use crate::contract::*;

/// What the table says of one endpoint, besides its types.
struct Entry {
    tag: &'static str,
    name: &'static str,
    methods: &'static [&'static str],
    body: &'static str,
    doc: &'static str,
    backend: &'static str,
    rpc: &'static str,
    /// `any`, `developer`, `operator` or `admin`.
    role: &'static str,
    /// `read` or `write` (recorded in the audit log).
    access: &'static str,
}

/// What the caller needs, in words, for the operation's description.
fn role_text(role: &str, access: &str, list: bool) -> String {
    let needs = match role {
        "any" => "any valid ticket".to_string(),
        "admin" => "the `admin` role".to_string(),
        role if list => format!(
            "the `{role}` role; answers only the applications and servers the caller holds it on"
        ),
        role => format!(
            "the `{role}` role on the target's application or server (or `*`, or `admin`); 403 otherwise, and nothing is done"
        ),
    };
    let audited = if access == "write" {
        " Recorded in the audit log (`audit_log`)."
    } else {
        ""
    };
    format!("**Role:** {needs}.{audited}")
}

/// Lists that filter to what the caller may read, rather than refuse.
const FILTERED_LISTS: &[&str] = &[
    "tree",
    "server_list",
    "inactive_server_list",
    "server_notify_list",
    "cascade_select_server",
    "task_list",
    "audit_log",
];

/// The document under construction.
#[derive(Default)]
struct Builder {
    paths: PathsBuilder,
    schemas: Vec<(String, RefOr<Schema>)>,
    tags: Vec<&'static str>,
}

/// How an answer (`data`) appears in the document: a named type as a reference to its
/// component, a list as a list of its element, text and numbers as themselves. A new
/// output type of the endpoint table gets its line in [`named!`].
pub trait Answer {
    /// The schema, registering the components it refers to.
    fn schema(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;
}

impl<T: Answer> Answer for Vec<T> {
    fn schema(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        ArrayBuilder::new().items(T::schema(components)).into()
    }
}

impl Answer for String {
    fn schema(_: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        <String as utoipa::PartialSchema>::schema()
    }
}

impl Answer for i64 {
    fn schema(_: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        <i64 as utoipa::PartialSchema>::schema()
    }
}

/// `T` as a component (with those it uses), referred to by name.
fn component<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    T::schemas(components);
    components.push((T::name().to_string(), T::schema()));
    Ref::from_schema_name(T::name()).into()
}

macro_rules! named {
    ($($t:ty),* $(,)?) => {$(
        impl Answer for $t {
            fn schema(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
                component::<$t>(components)
            }
        }
    )*};
}

named!(
    AdapterConf,
    AuditPage,
    AuthGrantRow,
    CommandResult,
    ConfigFile,
    ConfigHistory,
    ConfigHistoryPage,
    ConfigRef,
    ConfigRefDetail,
    DeployServerReply,
    ExpandPreviewServer,
    ExpandServerData,
    NodePort,
    Package,
    PackagePage,
    ProfileTemplate,
    PropertyRow,
    PublishReport,
    RealtimeState,
    ServerConf,
    ServerNotifyPage,
    StatRow,
    Task,
    TaskAnswer,
    TarsNodeResult,
    TreeNode,
);

impl Builder {
    fn add<I: ToSchema + 'static, O: Answer + 'static>(&mut self, e: Entry) {
        if !self.tags.contains(&e.tag) {
            self.tags.push(e.tag);
        }
        let takes_input = TypeId::of::<I>() != TypeId::of::<NoInput>();
        let input = I::schema();
        let input_ref = match takes_input {
            true => component::<I>(&mut self.schemas),
            false => input.clone(),
        };
        let example =
            object(&input).and_then(|o| o.example.clone().or(o.examples.first().cloned()));
        let text = TypeId::of::<O>() == TypeId::of::<PublishReport>();
        let data = O::schema(&mut self.schemas);
        let (summary, _) = e.doc.split_once('\n').unwrap_or((e.doc, ""));
        let rpc = if e.backend == "gateway" {
            "served by the gateway itself".to_string()
        } else {
            format!(
                "forwarded to {}.{}",
                e.backend.replace('_', "-"),
                camel(e.rpc)
            )
        };
        let mut item = PathItem::default();
        for method in e.methods {
            let get = *method == "GET";
            let mut op = OperationBuilder::new()
                .tag(e.tag)
                .summary(Some(summary.trim()))
                .description(Some(format!(
                    "{}\n\n{}\n\nAlso at `/server/api/{}`; {rpc}.",
                    e.doc.trim(),
                    role_text(e.role, e.access, FILTERED_LISTS.contains(&e.name)),
                    e.name
                )))
                .extensions(Some(
                    ExtensionsBuilder::new()
                        .add("x-tars-role", e.role)
                        .add("x-tars-access", e.access)
                        .build(),
                ))
                .operation_id(Some(match (e.methods.len(), get) {
                    (2, true) => format!("{}_get", e.name),
                    _ => e.name.to_string(),
                }))
                .security(SecurityRequirement::new("ticket", Vec::<String>::new()))
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
            if takes_input && get {
                for parameter in query_parameters(&input, example.as_ref()) {
                    op = op.parameter(parameter);
                }
            } else if takes_input {
                let types: &[&str] = match e.body {
                    "json" => &["application/json"],
                    "multipart" => &["multipart/form-data"],
                    _ => &["application/json", "application/x-www-form-urlencoded"],
                };
                let mut body = RequestBodyBuilder::new().required(Some(Required::True));
                for t in types {
                    let content = ContentBuilder::new()
                        .schema(Some(input_ref.clone()))
                        .example(example.clone())
                        .build();
                    body = body.content(*t, content);
                }
                op = op.request_body(Some(body.build()));
            }
            op = op.responses(responses(data.clone(), text, e.body != "params"));
            let method = if get {
                HttpMethod::Get
            } else {
                HttpMethod::Post
            };
            item.merge_operations(PathItem::new(method, op.build()));
        }
        self.paths = std::mem::take(&mut self.paths).path(format!("/api/{}", e.name), item);
    }

    fn finish(self) -> OpenApi {
        let error = ObjectBuilder::new()
            .description(Some("A failure: `ret_code` is the HTTP status, `err_msg` what was wrong and what to do."))
            .property("ret_code", ObjectBuilder::new().schema_type(Type::Integer))
            .property("err_msg", ObjectBuilder::new().schema_type(Type::String))
            .property("data", ObjectBuilder::new().schema_type(Type::Object))
            .required("ret_code")
            .required("err_msg")
            .required("data");
        let components = ComponentsBuilder::new()
            .schemas_from_iter(self.schemas)
            .schema("Error", error)
            .security_scheme(
                "ticket",
                SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("ticket"))),
            )
            .security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        let tags = self
            .tags
            .into_iter()
            .map(|t| TagBuilder::new().name(t).build())
            .collect::<Vec<_>>();
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("TARS management plane")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(DESCRIPTION)),
            )
            .paths(self.paths)
            .components(Some(components.build()))
            .tags(Some(tags))
            .build()
    }
}

const DESCRIPTION: &str = "TarsWeb's `/api`: every endpoint answers on `/api/<name>` and \
`/server/api/<name>`, needs a ticket (`?ticket=` or `Authorization: Bearer`), and answers \
`{\"ret_code\", \"err_msg\", \"data\"}` with `ret_code` equal to the HTTP status. \
Parameters come from the query string and a JSON or form body, merged (the body wins); \
numbers may be sent as text.";

fn object(schema: &RefOr<Schema>) -> Option<&Object> {
    match schema {
        RefOr::T(Schema::Object(o)) => Some(o),
        _ => None,
    }
}

/// An input type's fields as query parameters.
fn query_parameters(
    input: &RefOr<Schema>,
    example: Option<&Value>,
) -> Vec<utoipa::openapi::path::Parameter> {
    let Some(o) = object(input) else {
        return Vec::new();
    };
    o.properties
        .iter()
        .map(|(name, schema)| {
            let description = match schema {
                RefOr::T(Schema::Object(p)) => p.description.clone(),
                _ => None,
            };
            let required = if o.required.contains(name) {
                Required::True
            } else {
                Required::False
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(required)
                .description(description)
                .schema(Some(schema.clone()))
                .example(example.and_then(|e| e.get(name)).cloned())
                .build()
        })
        .collect()
}

/// The success answer and every failure of the error table.
fn responses(data: RefOr<Schema>, text: bool, typed_body: bool) -> utoipa::openapi::Responses {
    let mut responses = ResponsesBuilder::new();
    if text {
        let report = ContentBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build();
        for (status, what) in [
            ("200", "the task succeeded; the report"),
            (
                "202",
                "the task is still running after TARS_PUBLISH_WAIT_MS; the report",
            ),
            (
                "409",
                "no instance to patch (the package is kept); the report",
            ),
            ("502", "the task failed; the report"),
        ] {
            responses = responses.response(
                status,
                ResponseBuilder::new()
                    .description(what)
                    .content("text/plain", report.clone()),
            );
        }
    } else {
        let envelope = ObjectBuilder::new()
            .schema_type(SchemaType::from(Type::Object))
            .property("ret_code", ObjectBuilder::new().schema_type(Type::Integer))
            .property("err_msg", ObjectBuilder::new().schema_type(Type::String))
            .property("data", data)
            .required("ret_code")
            .required("err_msg")
            .required("data");
        responses = responses.response(
            "200",
            ResponseBuilder::new()
                .description("success: `ret_code` 200, `err_msg` empty")
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(envelope)).build(),
                ),
        );
    }
    for row in ERROR_TABLE {
        // 415 only where the body's type is checked; the report's own statuses are above.
        let skip = match row.http {
            415 => !typed_body,
            409 | 502 => text,
            _ => false,
        };
        if skip {
            continue;
        }
        let (content_type, schema): (&str, RefOr<Schema>) = if text {
            (
                "text/plain",
                ObjectBuilder::new().schema_type(Type::String).into(),
            )
        } else {
            ("application/json", Ref::from_schema_name("Error").into())
        };
        responses = responses.response(
            row.http.to_string(),
            ResponseBuilder::new().description(row.meaning).content(
                content_type,
                ContentBuilder::new().schema(Some(schema)).build(),
            ),
        );
    }
    responses.build()
}

/// `add_task` → `AddTask`, as the proto names the RPC.
fn camel(rpc: &str) -> String {
    rpc.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

macro_rules! document_paths {
    ($( $tag:literal {
        $( $(#[doc = $doc:literal])* $name:ident [$($method:ident)+] $body:ident
            $input:ty => $output:ty = $backend:ident . $rpc:ident : $role:ident $access:ident; )*
    } )*) => {
        fn add_all(builder: &mut Builder) {
            $({
                let tag = $tag;
                $(builder.add::<$input, $output>(Entry {
                    tag,
                    name: stringify!($name),
                    methods: &[$(stringify!($method)),+],
                    body: stringify!($body),
                    doc: concat!($($doc, "\n"),*),
                    backend: stringify!($backend),
                    rpc: stringify!($rpc),
                    role: stringify!($role),
                    access: stringify!($access),
                });)*
            })*
        }
    };
}

crate::endpoints!(document_paths);

/// The API's OpenAPI document.
pub fn document() -> OpenApi {
    let mut builder = Builder::default();
    add_all(&mut builder);
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_success_and_the_errors_of_the_table() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 53, "every endpoint of the table");
        assert_eq!(paths["/api/add_task"]["post"]["x-tars-role"], "operator");
        assert_eq!(paths["/api/tree"]["get"]["x-tars-role"], "developer");
        assert_eq!(
            paths["/api/install_tars_node"]["get"]["x-tars-access"],
            "write"
        );
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("200"), "{method} {path}");
                for status in ["400", "401", "404", "429", "500", "503"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
            }
        }
        let server = &paths["/api/server"]["get"];
        assert_eq!(server["parameters"][0]["name"], "id");
        assert_eq!(server["parameters"][0]["required"], true);
        assert_eq!(server["parameters"][0]["example"], 1);
        let deploy = &paths["/api/deploy_server"]["post"];
        assert!(deploy.get("parameters").is_none());
        assert_eq!(
            deploy["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/DeployServer"
        );
        assert!(deploy["responses"].get("415").is_some());
        assert!(doc["components"]["schemas"]["DeployAdapter"].is_object());
        assert!(doc["components"]["schemas"]["ServerConf"].is_object());
    }

    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        found.push(r);
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = serde_json::to_value(document()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 45);
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{r}");
        }
    }
}
