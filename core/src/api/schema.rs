//! Hand-written JSON schemas for fields whose Rust type does not describe the wire
//! format the API server should enforce (free-form objects, embedded resources).

use schemars::{json_schema, Schema, SchemaGenerator};

/// Extension key telling the API server (and [`super::unknown_fields`]) to keep any field.
pub const PRESERVE_UNKNOWN_FIELDS: &str = "x-kubernetes-preserve-unknown-fields";

/// A free-form object whose fields are kept as written (Go `runtime.RawExtension`,
/// offshoot-api types we do not model field by field).
pub fn free_form_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A list of free-form objects (e.g. offshoot-api `Volume` lists).
pub fn free_form_object_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": true
        }
    })
}

/// A complete embedded Kubernetes object (apiVersion/kind/metadata plus anything else),
/// as kubebuilder's `EmbeddedResource` + `PreserveUnknownFields` markers produce.
pub fn embedded_resource(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-embedded-resource": true,
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Drops the `default` schemars derives from `#[serde(default)]` on struct-typed fields:
/// Go marks those fields optional without a default, and a server-side default such as
/// `{name: ""}` would be written into every stored object.
pub fn no_default(schema: &mut Schema) {
    schema.remove("default");
}
