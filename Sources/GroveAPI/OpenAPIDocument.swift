import GroveModel

/// The OpenAPI 3 description of what this server implements (filled in by OpenAPISpec).
enum OpenAPIDocument {
    static let bytes: [UInt8] = Array(OpenAPISpec.document().serialized().utf8)
}

enum OpenAPISpec {
    static func document() -> JSON {
        .object(JSONObject([("openapi", "3.0.3"), ("info", .object(JSONObject([("title", "Grove API"), ("version", .string(GroveVersion.string))]))), ("paths", .object(JSONObject()))]))
    }
}
