import Foundation
import NIOCore
import TaplineCore

/// Turns Stitch request bodies into validated domain commands.
///
/// Shape errors (wrong keys, wrong JSON types) are found here; the property rules of a source type
/// live in the core (`SourceType.validate(properties:)`).
package enum SourceRequests {
    static let maxDisplayNameLength = 255

    /// Decodes a body into a JSON value; an empty body is `nil`.
    static func decode(_ buffer: ByteBuffer, emptyMessage: String) throws(SourceError) -> [String: JSONValue] {
        guard buffer.readableBytes > 0 else { throw .invalidBody(emptyMessage) }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw .invalidBody("request body is not valid JSON")
        }
        guard case .object(let object) = value else { throw .invalidBody(emptyMessage) }
        if let problem = JSONStrictness.firstProblem(in: buffer.readableBytesView) { throw .invalidBody(problem.message) }
        return object
    }

    // MARK: POST /v4/sources

    static let createKeys: Set<String> = ["type", "display_name", "properties", "destination_id", "name"]

    package static func create(_ body: [String: JSONValue], catalog: SourceTypeCatalog) throws(SourceError) -> NewSource {
        guard Set(body.keys).isSubset(of: createKeys) else { throw .invalidBody(SourceError.postBodyMessage) }
        guard case .string(let typeName)? = body["type"], !typeName.isEmpty else {
            throw .invalidBody(SourceError.postBodyMessage)
        }
        guard case .string(let displayName)? = body["display_name"], !isBlank(displayName) else {
            throw .invalidBody(SourceError.postBodyMessage)
        }
        guard displayName.count <= maxDisplayNameLength else {
            throw .invalidDisplayName("invalid display_name (\(displayName))")
        }
        try refuseControlCharacters(displayName)
        let properties = try propertiesObject(body["properties"], message: SourceError.postBodyMessage)
        // stitch_connect_client 0.6.2 (PyPI) sends a copy of `properties` as `destination_id` on
        // every create (its model's destination_id setter is declared as the properties
        // setter): that exact value is read as "not given", anything else must be an integer.
        let sentID = body["destination_id"].flatMap { $0 == body["properties"] ? nil : $0 }
        let destinationID = try destination(sentID)
        guard let type = catalog[typeName] else { throw .invalidType(typeName) }

        let name: String
        let derived: Bool
        switch body["name"] {
        case nil, .null?:
            name = SourceName.derive(fromDisplayName: displayName)
            derived = true
            guard SourceName.isValid(name) else {
                throw .invalidDisplayName("invalid name after deriving it from display_name (\(displayName) -> \(name))")
            }
        case .string(let given)?:
            guard SourceName.isValid(given) else { throw .invalidName(SourceName.rulesMessage) }
            name = given
            derived = false
        default:
            throw .invalidName(SourceName.rulesMessage)
        }
        let changes = try type.validate(properties: properties)
        return NewSource(
            type: typeName, displayName: displayName, name: name, nameWasDerived: derived, changes: changes,
            destinationID: destinationID)
    }

    /// A display name with a control character (NUL included) is refused, naming the character.
    static func refuseControlCharacters(_ name: String) throws(SourceError) {
        guard let scalar = DisplayName.controlCharacter(in: name) else { return }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        throw .invalidDisplayName("invalid display_name: it contains the control character \(code)")
    }

    // MARK: PUT /v4/sources/{id}

    /// Keys a PUT may carry: Stitch's three, `destination_id` (in Stitch's argument table) and
    /// tapline's `system_paused_at` extension.
    static let updateKeys: Set<String> = ["display_name", "properties", "paused_at", "destination_id", "system_paused_at"]

    /// The shape of a PUT, before its properties are checked against the source's type.
    package struct UpdateShape {
        package var patch = SourcePatch()
        package var properties: [String: JSONValue]?
    }

    package static func updateShape(_ body: [String: JSONValue]) throws(SourceError) -> UpdateShape {
        guard Set(body.keys).isSubset(of: updateKeys) else { throw .invalidBody(SourceError.putBodyMessage) }
        var shape = UpdateShape()
        switch body["display_name"] {
        case nil: break
        case .string(let name)? where !isBlank(name) && name.count <= maxDisplayNameLength:
            try refuseControlCharacters(name)
            shape.patch.displayName = name
        case .string(let name)?: throw .invalidDisplayName("invalid display_name (\(name))")
        case let other?: throw .invalidDisplayName("invalid display_name (\(render(other)))")
        }
        switch body["paused_at"] {
        case nil: break
        case .null?: shape.patch.pause = .unpause
        case .string(let text)?:
            guard let date = Timestamp.parseInstant(text) else {
                throw .invalidBody("paused_at must be an ISO 8601 timestamp or null, got \"\(text)\"")
            }
            shape.patch.pause = .pause(shownAs: date)
        case let other?:
            throw .invalidBody("paused_at must be an ISO 8601 timestamp or null, got \(render(other))")
        }
        switch body["system_paused_at"] {
        case nil: break
        case .null?: shape.patch.clearSystemPause = true
        case let other?:
            throw .invalidBody(
                "system_paused_at can only be set to null (which clears a system pause), got \(render(other))")
        }
        shape.patch.destinationID = try destination(body["destination_id"])
        if body["properties"] != nil {
            shape.properties = try propertiesObject(body["properties"], message: "properties must be a JSON object")
        }
        return shape
    }

    // MARK: Helpers

    private static func propertiesObject(_ value: JSONValue?, message: String) throws(SourceError) -> [String: JSONValue] {
        switch value {
        case nil: return [:]
        case .object(let object)?: return object
        default: throw .invalidBody(message)
        }
    }

    private static func destination(_ value: JSONValue?) throws(SourceError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case let v?:
            guard let id = v.exactInteger else { throw .invalidBody("destination_id must be an integer") }
            return id
        }
    }

    private static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    /// A short rendering of a JSON value for error messages.
    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        case .number(let n): String(n)
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
