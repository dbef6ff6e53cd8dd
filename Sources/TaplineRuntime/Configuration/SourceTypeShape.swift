import Foundation
import TaplineCore

/// A source type as written in the configuration file.
struct SourceTypeShape: Decodable {
    var type: String
    var displayName: String?
    var tap: [String]?
    var pip: String?
    var executable: String?
    var discovery: Bool?
    var defaultFrequency: Int?
    var allowedFrequencies: [Int]?
    var defaultStartDate: String?
    var about: Bool?
    var check: [String]?
    var timeoutSeconds: Double?
    var properties: [PropertyShape]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case displayName = "display_name"
        case tap, pip, executable
        case discovery
        case defaultFrequency = "default_frequency_in_minutes"
        case allowedFrequencies = "allowed_frequencies"
        case defaultStartDate = "default_start_date"
        case about, check
        case timeoutSeconds = "timeout_seconds"
        case properties
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        tap = try c.decodeIfPresent([String].self, forKey: .tap)
        pip = try c.decodeIfPresent(String.self, forKey: .pip)
        executable = try c.decodeIfPresent(String.self, forKey: .executable)
        discovery = try c.decodeIfPresent(Bool.self, forKey: .discovery)
        defaultFrequency = try c.decodeIfPresent(Int.self, forKey: .defaultFrequency)
        allowedFrequencies = try c.decodeIfPresent([Int].self, forKey: .allowedFrequencies)
        defaultStartDate = try c.decodeIfPresent(String.self, forKey: .defaultStartDate)
        about = try c.decodeIfPresent(Bool.self, forKey: .about)
        check = try c.decodeIfPresent([String].self, forKey: .check)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
        properties = try c.decodeIfPresent([PropertyShape].self, forKey: .properties)
    }

    func sourceType(path: String) throws(ConfigurationError) -> SourceType {
        guard !type.isEmpty, type.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw ConfigurationError("\(path).type: expected a name such as platform.hubspot, got \"\(type)\"")
        }
        let plugin = try PluginShape.requirement(pip: pip, executable: executable, command: tap, commandKey: "tap", path: path)
        let tap = plugin.map { [$0.executable ?? $0.name] } ?? self.tap ?? []
        guard !tap.isEmpty, !tap.contains(where: \.isEmpty) else {
            throw ConfigurationError(
                "\(path).tap: expected the tap's command as a list of arguments, e.g. [tap-github], or pip: with its package")
        }
        if let check {
            guard !check.isEmpty, !check.contains(where: \.isEmpty) else {
                throw ConfigurationError("\(path).check: expected the check's command as a list of arguments, e.g. [tap-x, --check]")
            }
            guard discovery != true else {
                throw ConfigurationError("\(path).check: a type with discovery is checked by its tap's --discover; give only one")
            }
        }
        if let timeoutSeconds, !(0...(30 * 86_400)).contains(timeoutSeconds) {
            throw ConfigurationError("\(path).timeout_seconds: must be between 0 (no limit) and 2592000 (30 days)")
        }
        let allowed = allowedFrequencies ?? Frequency.allowedMinutes
        guard !allowed.isEmpty, allowed.allSatisfy(Frequency.allowedMinutes.contains) else {
            throw ConfigurationError(
                "\(path).allowed_frequencies: each must be one of \(Frequency.allowedMinutes.map(String.init).joined(separator: ", "))")
        }
        let defaultFrequency = self.defaultFrequency ?? (allowed.contains(60) ? 60 : allowed[0])
        guard allowed.contains(defaultFrequency) else {
            throw ConfigurationError("\(path).default_frequency_in_minutes: \(defaultFrequency) is not in allowed_frequencies")
        }
        let specs = try PropertyShape.specs(properties, path: path)
        return SourceType(
            type: type, displayName: displayName ?? type, properties: specs, defaultFrequencyMinutes: defaultFrequency,
            allowedFrequencies: allowed, supportsDiscovery: discovery ?? false, tapCommand: tap,
            defaultStartDate: defaultStartDate, describesItself: about ?? false, discoveryDeclared: discovery != nil,
            checkCommand: check, timeoutSeconds: timeoutSeconds, plugin: plugin, aboutDeclared: about != nil)
    }
}

/// One property of a source type as written in the configuration file.
struct PropertyShape: Decodable {
    var name: String
    var required: Bool?
    var credential: Bool?
    var pattern: String?
    var format: String?
    var defaultValue: String?
    var json: Bool?
    var type: String?
    var description: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, required, credential, pattern, format, json, type, description
        case defaultValue = "default"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        required = try c.decodeIfPresent(Bool.self, forKey: .required)
        credential = try c.decodeIfPresent(Bool.self, forKey: .credential)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        format = try c.decodeIfPresent(String.self, forKey: .format)
        defaultValue = try c.decodeIfPresent(String.self, forKey: .defaultValue)
        json = try c.decodeIfPresent(Bool.self, forKey: .json)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    /// The `properties:` list of a source or destination type; a name declared twice is an error.
    static func specs(_ shapes: [PropertyShape]?, path: String) throws(ConfigurationError) -> [PropertySpec] {
        var specs: [PropertySpec] = []
        for (i, shape) in (shapes ?? []).enumerated() {
            let spec = try shape.spec(path: "\(path).properties[\(i)]")
            guard !specs.contains(where: { $0.name == spec.name }) else {
                throw ConfigurationError("\(path).properties[\(i)].name: \"\(spec.name)\" is declared twice")
            }
            specs.append(spec)
        }
        return specs
    }

    func spec(path: String) throws(ConfigurationError) -> PropertySpec {
        guard !name.isEmpty, !SchedulingProperty.all.contains(name) else {
            throw ConfigurationError(
                "\(path).name: \"\(name)\" is not allowed (empty, or one of the scheduling properties every source has)")
        }
        if let pattern {
            guard (try? Regex(pattern)) != nil else {
                throw ConfigurationError("\(path).pattern: not a valid regular expression: \(pattern)")
            }
        }
        var parsedFormat: PropertySpec.Format?
        if let format {
            guard let f = PropertySpec.Format(rawValue: format) else {
                throw ConfigurationError("\(path).format: the only supported format is date-time, got \"\(format)\"")
            }
            parsedFormat = f
        }
        var valueType = PropertyValueType.string
        if let type {
            guard let parsed = PropertyValueType(rawValue: type) else {
                throw ConfigurationError(
                    "\(path).type: expected one of \(PropertyValueType.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(type)\"")
            }
            guard json != true || parsed == .json else {
                throw ConfigurationError("\(path).json: json: true means type: json; give only one of them")
            }
            valueType = parsed
        } else if json == true {
            valueType = .json
        }
        let spec = PropertySpec(
            name: name, isRequired: required ?? false, isCredential: credential ?? false, pattern: pattern,
            format: parsedFormat, defaultValue: defaultValue, valueType: valueType, summary: description)
        if let defaultValue, !defaultValue.isEmpty, !spec.accepts(defaultValue) {
            throw ConfigurationError(
                "\(path).default: \"\(defaultValue)\" does not satisfy the property's own type, pattern or format")
        }
        return spec
    }
}
