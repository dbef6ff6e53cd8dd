import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where plugins live: `<state_dir>/plugins/<name>/`, one directory per distribution, holding
/// numbered generations (`g1`, `g2`, …: one virtual environment each), `current` (a symlink to
/// the generation in use, replaced atomically by a finished install) and `install.lock`.
///
/// A virtual environment cannot be moved once made (its scripts name its interpreter by path),
/// so an install builds its generation where it stays and marks it finished by writing
/// `plugin.json` last; only then does `current` point at it. Jobs run `current/bin/<program>`,
/// so a job started after an upgrade runs the new version and one already running keeps its own.
public struct PluginDirectory: Sendable {
    /// `<state_dir>/plugins`.
    public let root: String

    public init(stateDirectory: String) { root = stateDirectory + "/plugins" }

    public func directory(of name: String) -> String { root + "/" + name }
    public func current(of name: String) -> String { directory(of: name) + "/current" }

    /// The path a type's command runs: through `current`, so upgrades apply to the next job.
    public func command(name: String, executable: String) -> String { current(of: name) + "/bin/" + executable }

    /// The plugin `current` points at, if a finished install exists.
    public func installed(_ name: String) -> InstalledPlugin? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current(of: name)) else { return nil }
        let generation = target.hasPrefix("/") ? target : directory(of: name) + "/" + target
        return Self.record(in: generation)
    }

    /// Every plugin with a finished install, by name.
    public func all() -> [InstalledPlugin] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap(installed)
    }

    static func record(in generation: String) -> InstalledPlugin? {
        guard let data = FileManager.default.contents(atPath: generation + "/plugin.json"),
            var record = try? JSONDecoder().decode(InstalledPlugin.self, from: data)
        else { return nil }
        record.directory = generation
        return record
    }

    /// The generation numbers present (finished or not).
    func generations(of name: String) -> [Int] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory(of: name))) ?? []
        return entries.compactMap { $0.hasPrefix("g") ? Int($0.dropFirst()) : nil }.sorted()
    }

    /// The generation `current` points at, by number.
    func currentGeneration(of name: String) -> Int? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current(of: name)) else { return nil }
        let last = (target as NSString).lastPathComponent
        return last.hasPrefix("g") ? Int(last.dropFirst()) : nil
    }
}
