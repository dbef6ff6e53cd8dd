import Foundation
import TaplineCore
import Yams

/// `destination:` in the configuration file: the destination a fresh install starts with, by
/// its type and properties; or, as a shorthand for a single type, the target itself
/// (`target:`, `config:`, `stitch_type:`).
struct DestinationShape: Decodable {
    var type: String?
    var target: [String]?
    var pip: String?
    var executable: String?
    var stitchType: String?
    var properties: [String: String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, target, pip, executable, config, properties
        case stitchType = "stitch_type"
    }

    /// The shorthand for a single destination type: its target's command or its package.
    var isShorthand: Bool { target != nil || pip != nil }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        target = try c.decodeIfPresent([String].self, forKey: .target)
        pip = try c.decodeIfPresent(String.self, forKey: .pip)
        executable = try c.decodeIfPresent(String.self, forKey: .executable)
        stitchType = try c.decodeIfPresent(String.self, forKey: .stitchType)
        properties = try c.decodeIfPresent([String: String].self, forKey: .properties)
        // `config` is read from the YAML node, with its types (see `apply`).
    }
}

/// One of `destination_types:`.
struct DestinationTypeShape: Decodable {
    var type: String
    var stitchType: String?
    var displayName: String?
    var target: [String]?
    var pip: String?
    var executable: String?
    var properties: [PropertyShape]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, target, pip, executable, config, properties
        case stitchType = "stitch_type"
        case displayName = "display_name"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        stitchType = try c.decodeIfPresent(String.self, forKey: .stitchType)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        target = try c.decodeIfPresent([String].self, forKey: .target)
        pip = try c.decodeIfPresent(String.self, forKey: .pip)
        executable = try c.decodeIfPresent(String.self, forKey: .executable)
        properties = try c.decodeIfPresent([PropertyShape].self, forKey: .properties)
    }

    func destinationType(path: String, config: Node?) throws(ConfigurationError) -> DestinationType {
        guard Self.isName(type) else { throw ConfigurationError("\(path).type: expected a name such as postgres, got \"\(type)\"") }
        if let stitchType, !Self.isName(stitchType) {
            throw ConfigurationError("\(path).stitch_type: expected a name such as postgres, got \"\(stitchType)\"")
        }
        let plugin = try PluginShape.requirement(
            pip: pip, executable: executable, command: target, commandKey: "target", path: path)
        let target = plugin.map { [$0.executable ?? $0.name] } ?? self.target ?? []
        guard !target.isEmpty, !target.contains(where: \.isEmpty) else {
            throw ConfigurationError(
                "\(path).target: expected the target's command as a list of arguments, or pip: with its package")
        }
        let specs = try PropertyShape.specs(properties, path: path)
        return DestinationType(
            type: type, stitchType: stitchType, displayName: displayName, target: target,
            config: try DestinationConfiguration.settings(config, path: "\(path).config"), properties: specs, plugin: plugin)
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}

/// Turns the parsed `destination_types` and `destination` keys into the configuration's
/// destination types and initial destination.
enum DestinationConfiguration {
    static func apply(
        types: [DestinationTypeShape]?, destination: DestinationShape?, node: Node, to config: inout TaplineConfiguration
    ) throws(ConfigurationError) {
        if let types {
            guard destination?.isShorthand != true else {
                throw ConfigurationError(
                    "destination.\(destination?.pip != nil ? "pip" : "target"): give destination_types, or the destination shorthand, not both"
                )
            }
            var built: [DestinationType] = []
            for (i, shape) in types.enumerated() {
                let type = try shape.destinationType(path: "destination_types[\(i)]", config: node["destination_types"]?[i]?["config"])
                guard !built.contains(where: { $0.type == type.type }) else {
                    throw ConfigurationError("destination_types[\(i)].type: \"\(type.type)\" is declared twice")
                }
                built.append(type)
            }
            guard !built.isEmpty else { throw ConfigurationError("destination_types: declare at least one destination type") }
            config.destinationTypes = built
            config.initialDestination = InitialDestination(
                type: destination?.type ?? built[0].type, properties: destination?.properties ?? [:])
        } else if let destination, destination.isShorthand {
            guard destination.type == nil else {
                throw ConfigurationError("destination.type: with the destination.target (or pip) shorthand, the type is implicit")
            }
            var shape = DestinationTypeShape(
                type: "default", stitchType: destination.stitchType ?? "s3", displayName: "Configured target",
                target: destination.target)
            shape.pip = destination.pip
            shape.executable = destination.executable
            config.destinationTypes = [try shape.destinationType(path: "destination", config: node["destination"]?["config"])]
            config.initialDestination = InitialDestination(type: "default", properties: destination.properties ?? [:])
        } else if let destination {
            guard destination.executable == nil else {
                throw ConfigurationError("destination.executable: applies only with pip: (a package tapline installs)")
            }
            guard destination.stitchType == nil, node["destination"]?["config"] == nil else {
                throw ConfigurationError("destination: stitch_type and config belong to a destination type (or the target: shorthand)")
            }
            config.initialDestination = InitialDestination(
                type: destination.type ?? config.destinationTypes[0].type, properties: destination.properties ?? [:])
        }
        guard let initial = config.initialDestination else { return }
        guard let type = config.destinationTypes.first(where: { $0.type == initial.type }) else {
            throw ConfigurationError("destination.type: \"\(initial.type)\" is not one of destination_types")
        }
        do throws(DestinationError) {
            _ = try type.validate(properties: initial.properties.mapValues(JSONValue.string))
        } catch {
            throw ConfigurationError("destination.properties: not valid for the type \(type.type) (\(error))")
        }
        let missing = type.missingRequired(Set(initial.properties.keys))
        guard missing.isEmpty else {
            throw ConfigurationError("destination.properties: \(missing.joined(separator: ", ")) required by the type \(type.type)")
        }
    }

    /// A type's fixed settings from its `config` node, typed as YAML types them.
    static func settings(_ node: Node?, path: String) throws(ConfigurationError) -> [String: JSONValue] {
        guard let node else { return [:] }
        guard case .object(let object) = try node.jsonValue(path: path) else {
            throw ConfigurationError("\(path): expected a mapping of keys to values")
        }
        return object
    }
}

extension DestinationTypeShape {
    init(type: String, stitchType: String?, displayName: String?, target: [String]?) {
        self.type = type
        self.stitchType = stitchType
        self.displayName = displayName
        self.target = target
        self.properties = nil
    }
}
