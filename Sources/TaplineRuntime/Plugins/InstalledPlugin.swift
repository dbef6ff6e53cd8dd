import Foundation
import TaplineCore

/// What an installed plugin's `plugin.json` records, written last by the install: a generation
/// directory without it is an install that did not finish and is never used.
public struct InstalledPlugin: Sendable, Equatable, Codable {
    /// The requirement it was installed from, as the configuration wrote it.
    public var requirement: String
    /// The distribution's normalised name (the plugin's directory).
    public var name: String
    /// The version pip installed.
    public var version: String
    /// The package's console scripts (its executables in `bin/`).
    public var executables: [String]
    /// The Meltano SDK version the package runs on, `nil` when it does not use it: such a tap
    /// describes itself (`--about`), so `about:` defaults to true for it.
    public var singerSDK: String?
    /// The interpreter's version in the environment.
    public var python: String
    /// When the install finished (UTC, ISO 8601).
    public var installedAt: String
    /// The generation directory's absolute path (not stored: where the record was read).
    public var directory: String = ""

    enum CodingKeys: String, CodingKey {
        case requirement, name, version, executables
        case singerSDK = "singer_sdk"
        case python
        case installedAt = "installed_at"
    }

    /// The absolute path of one of its executables.
    public func path(of executable: String) -> String { directory + "/bin/" + executable }

    /// The executable a type runs: the one it names, else the package's only console script.
    public func executable(for plugin: PluginRequirement) throws(PluginInstallError) -> String {
        if let named = plugin.executable {
            guard FileManager.default.isExecutableFile(atPath: path(of: named)) else {
                throw PluginInstallError(
                    "\(requirement) installs no executable \(named)"
                        + (executables.isEmpty ? "" : " (its executables: \(executables.joined(separator: ", ")))"))
            }
            return named
        }
        switch executables.count {
        case 1: return executables[0]
        case 0:
            throw PluginInstallError(
                "\(requirement) declares no console script; name the program to run with executable:")
        default:
            throw PluginInstallError(
                "\(requirement) installs \(executables.joined(separator: ", ")); name the one to run with executable:")
        }
    }
}

/// Why a plugin could not be installed, resolved or removed. Says which package and what to do.
public struct PluginInstallError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
