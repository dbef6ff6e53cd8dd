import Foundation
import TaplineCore

/// `plugins:` in the configuration file: how taps and targets named by a Python package
/// (`pip:`) are installed.
struct PluginsShape: Decodable {
    var python: String?
    var pipArguments: [String]?
    var installTimeoutSeconds: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case python
        case pipArguments = "pip_arguments"
        case installTimeoutSeconds = "install_timeout_seconds"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        python = try c.decodeIfPresent(String.self, forKey: .python)
        pipArguments = try c.decodeIfPresent([String].self, forKey: .pipArguments)
        installTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .installTimeoutSeconds)
    }

    func apply(to settings: inout PluginSettings) throws(ConfigurationError) {
        if let python {
            guard !python.isEmpty else { throw ConfigurationError("plugins.python: must not be empty") }
            settings.python = python
        }
        if let pipArguments {
            guard !pipArguments.contains(where: \.isEmpty) else {
                throw ConfigurationError("plugins.pip_arguments: expected pip's options as a list, e.g. [--find-links, /srv/wheels]")
            }
            settings.pipArguments = pipArguments
        }
        if let installTimeoutSeconds {
            guard (10...86_400).contains(installTimeoutSeconds) else {
                throw ConfigurationError("plugins.install_timeout_seconds: must be between 10 and 86400")
            }
            settings.installTimeoutSeconds = installTimeoutSeconds
        }
    }
}

/// The `pip:` and `executable:` keys of a source or destination type.
enum PluginShape {
    /// The type's plugin, or `nil` when it names its command (`tap:` or `target:`) instead.
    static func requirement(
        pip: String?, executable: String?, command: [String]?, commandKey: String, path: String
    ) throws(ConfigurationError) -> PluginRequirement? {
        guard let pip else {
            if executable != nil {
                throw ConfigurationError("\(path).executable: applies only with pip: (a package tapline installs)")
            }
            return nil
        }
        guard command == nil else {
            throw ConfigurationError(
                "\(path).\(commandKey): give either \(commandKey): (an installed program) or pip: (a package tapline installs), not both")
        }
        do {
            return try PluginRequirement(requirement: pip, executable: executable)
        } catch {
            throw ConfigurationError("\(path).pip: \(error.description)")
        }
    }
}
