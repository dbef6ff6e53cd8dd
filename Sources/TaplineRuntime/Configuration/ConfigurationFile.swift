import Foundation
import Logging
import TaplineCore
import Yams

extension TaplineConfiguration {
    /// Loads a YAML configuration file over the embedded defaults. Unknown keys, wrong types and
    /// invalid values are errors naming the key: a typo must not silently fall back to a default.
    public static func load(path: String) throws(ConfigurationError) -> TaplineConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot read the file: \(error.localizedDescription)")
        }
        return try parse(yaml: text, origin: path)
    }

    /// Parses YAML text (an empty document means all defaults).
    public static func parse(yaml: String, origin: String = "configuration") throws(ConfigurationError)
        -> TaplineConfiguration
    {
        let file: FileShape
        let node: Node
        do {
            // A file with nothing but comments is an empty document: all defaults.
            guard let composed = try Yams.compose(yaml: yaml) else { return TaplineConfiguration() }
            node = composed
            file = try YAMLDecoder().decode(FileShape.self, from: node)
        } catch let error as DecodingError {
            throw ConfigurationError("\(origin): \(ConfigurationError.describe(error))")
        } catch {
            throw ConfigurationError("\(origin): not valid YAML: \(error)")
        }
        var config = TaplineConfiguration()
        do throws(ConfigurationError) {
            try file.apply(to: &config)
            // Read from the node: target settings keep the types YAML gives them, which
            // Decodable cannot see.
            try DestinationConfiguration.apply(
                types: file.destinationTypes, destination: file.destination, node: node, to: &config)
        } catch {
            throw ConfigurationError("\(origin): \(error.message)")
        }
        return config
    }

}
