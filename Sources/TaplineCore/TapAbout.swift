import Foundation

/// What a tap says about itself with `--about --format json` (Meltano SDK taps): its settings as
/// a JSON schema, which become the source type's properties, and its capabilities.
public struct TapAbout: Sendable, Equatable {
    public var name: String?
    public var properties: [PropertySpec]
    public var capabilities: [String]

    /// Reads the JSON a tap printed. Each setting becomes a property: its type from the schema's
    /// `type` (the first that is not `null`), `required` from the schema's `required` list,
    /// `secret` or `writeOnly` make it a credential, `format: date-time` and `pattern` are kept
    /// (a pattern this engine cannot compile is left out rather than refusing every value).
    /// Defaults stay with the tap, which applies its own. Settings named like a scheduling
    /// property are left out: those keys belong to tapline.
    public static func parse(_ data: Data) throws(TapAboutError) -> TapAbout {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TapAboutError("the output is not a JSON object")
        }
        guard let settings = object["settings"] as? [String: Any],
            let schema = settings["properties"] as? [String: Any]
        else { throw TapAboutError("the output has no settings.properties") }
        let required = Set(settings["required"] as? [String] ?? [])
        var properties: [PropertySpec] = []
        for name in schema.keys.sorted() where !name.isEmpty && !SchedulingProperty.all.contains(name) {
            let setting = schema[name] as? [String: Any] ?? [:]
            var pattern = setting["pattern"] as? String
            if let p = pattern, (try? Regex(p)) == nil { pattern = nil }
            let format: PropertySpec.Format? = (setting["format"] as? String) == "date-time" ? .dateTime : nil
            properties.append(
                PropertySpec(
                    name: name, isRequired: required.contains(name),
                    isCredential: setting["secret"] as? Bool == true || setting["writeOnly"] as? Bool == true,
                    pattern: pattern, format: format, valueType: valueType(of: setting),
                    summary: setting["description"] as? String))
        }
        return TapAbout(
            name: object["name"] as? String, properties: properties,
            capabilities: object["capabilities"] as? [String] ?? [])
    }

    /// A setting's JSON-schema `type` (a name or a list of names) as a property type; a setting
    /// that allows several non-null types takes any JSON.
    static func valueType(of setting: [String: Any]) -> PropertyValueType {
        let names: [String]
        if let one = setting["type"] as? String {
            names = [one]
        } else if let many = setting["type"] as? [String] {
            names = many
        } else {
            return setting["anyOf"] != nil || setting["oneOf"] != nil ? .json : .string
        }
        let concrete = names.filter { $0 != "null" }
        guard concrete.count == 1 else { return concrete.isEmpty ? .string : .json }
        return PropertyValueType(rawValue: concrete[0]) ?? .string
    }
}

/// Why a tap's `--about` output could not be used.
public struct TapAboutError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension SourceType {
    /// The type with the tap's own settings as properties. Properties written in the
    /// configuration win over the tap's of the same name (an operator can make a setting
    /// required, a credential or give it a default); discovery follows the tap's `discover`
    /// capability unless the configuration said `discovery:` itself.
    public func describing(with about: TapAbout, discoveryDeclared: Bool) -> SourceType {
        var result = self
        let declared = Set(properties.map(\.name))
        result.properties = properties + about.properties.filter { !declared.contains($0.name) }
        if !discoveryDeclared { result.supportsDiscovery = about.capabilities.contains("discover") }
        return result
    }
}
