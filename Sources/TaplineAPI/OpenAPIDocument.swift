/// tapline's OpenAPI 3 document (`Sources/TaplineAPI/openapi.yaml`, embedded by SwiftPM),
/// served at `GET /openapi.yaml`.
public enum OpenAPIDocument {
    public static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
