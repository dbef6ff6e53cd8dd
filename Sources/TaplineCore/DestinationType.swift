/// A kind of destination an operator offers: the Singer target that loads into it, its fixed
/// settings, and the properties API callers may fill in.
///
/// As with source types, API callers only pick a type by name and fill in its properties; the
/// command comes from the configuration, never from the API.
public struct DestinationType: Sendable, Hashable {
    /// The name callers use (`POST /v4/destinations {"type": …}`).
    public var type: String
    /// The name the API reports as the destination's `type`: Stitch clients accept only
    /// `azure_sqldw`, `postgres`, `redshift`, `s3` or `snowflake`. Callers may create a
    /// destination by this name too, when exactly one type reports it.
    public var stitchType: String
    public var displayName: String
    /// The target's argument vector.
    public var target: [String]
    /// The Python package the target is installed from (`pip:`); `nil`: `target` names an
    /// executable the operator installed. Until the plugin is resolved, `target` holds only its
    /// executable's name.
    public var plugin: PluginRequirement?
    /// Settings every destination of this type gets, typed as the configuration file types them;
    /// the destination's own properties are merged over them.
    public var config: [String: JSONValue]
    /// What API callers may set; values are strings on the wire, typed in the target's file.
    public var properties: [PropertySpec]

    public init(
        type: String, stitchType: String? = nil, displayName: String? = nil, target: [String],
        config: [String: JSONValue] = [:], properties: [PropertySpec] = [], plugin: PluginRequirement? = nil
    ) {
        self.plugin = plugin
        self.type = type
        self.stitchType = stitchType ?? type
        self.displayName = displayName ?? type
        self.target = target
        self.config = config
        self.properties = properties
    }

    public func property(named name: String) -> PropertySpec? { properties.first { $0.name == name } }

    /// Checks a `properties` object: every key declared, every value a non-empty string the
    /// property accepts (`null` removes an optional one). All offending keys are reported
    /// together. Returns the plain and the credential changes apart.
    public func validate(properties values: [String: JSONValue]) throws(DestinationError)
        -> (regular: [String: ValueChange<String>], credentials: [String: ValueChange<String>])
    {
        var regular: [String: ValueChange<String>] = [:]
        var credentials: [String: ValueChange<String>] = [:]
        var bad: [String] = []
        for (key, value) in values {
            guard let spec = property(named: key) else {
                bad.append(key)
                continue
            }
            let change: ValueChange<String>
            switch value {
            case .null where !spec.isRequired: change = .remove
            case .string(let s) where !s.isEmpty && spec.accepts(s): change = .set(s)
            default:
                bad.append(key)
                continue
            }
            if spec.isCredential { credentials[key] = change } else { regular[key] = change }
        }
        guard bad.isEmpty else { throw .invalidProperties(bad.sorted()) }
        return (regular, credentials)
    }

    /// The required properties missing from `provided`.
    public func missingRequired(_ provided: Set<String>) -> [String] {
        properties.filter { $0.isRequired && !provided.contains($0.name) }.map(\.name).sorted()
    }

    /// The target's configuration: the type's fixed settings, then the destination's values,
    /// each typed as its property declares.
    public func targetConfiguration(properties: [String: String], credentials: [String: String]) -> [String: JSONValue] {
        var result = config
        for (key, value) in properties.merging(credentials, uniquingKeysWith: { $1 }) {
            result[key] = property(named: key)?.configurationValue(value) ?? .string(value)
        }
        return result
    }
}

/// Why a destination request was refused.
public enum DestinationError: Error, Equatable, Sendable {
    case invalidProperties([String])
    case missingRequired([String])
    case unknownType(String)
    case ambiguousType(String)
    case alreadyExists
    case unknownID(Int64)
    case typeChange
}

/// The configured destination types.
public struct DestinationTypeCatalog: Sendable {
    public private(set) var types: [DestinationType]

    public init(_ types: [DestinationType]) { self.types = types }

    public subscript(type: String) -> DestinationType? { types.first { $0.type == type } }

    /// The type a caller means: its own name, else the one type reporting that Stitch name.
    public func resolve(_ name: String) throws(DestinationError) -> DestinationType {
        if let exact = self[name] { return exact }
        let reporting = types.filter { $0.stitchType == name }
        guard !reporting.isEmpty else { throw .unknownType(name) }
        guard reporting.count == 1 else { throw .ambiguousType(name) }
        return reporting[0]
    }
}
