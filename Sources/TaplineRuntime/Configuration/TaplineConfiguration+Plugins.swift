import Foundation
import TaplineCore

extension TaplineConfiguration {
    /// What to do with a `pip:` plugin whose requirement is not installed.
    public enum PluginResolution {
        /// Install it now (`tapline serve`, before anything is served; `progress` gets pip's lines).
        case install(progress: (String) -> Void)
        /// Leave it: its type keeps the bare executable name and does not describe itself, and
        /// the note says so (`tapline config check`, the API clients).
        case installedOnly
    }

    /// Every plugin a source or destination type names, once each, in the order they appear.
    public var plugins: [PluginRequirement] {
        var seen: [String: PluginRequirement] = [:]
        var ordered: [PluginRequirement] = []
        for plugin in sourceTypes.compactMap(\.plugin) + destinationTypes.compactMap(\.plugin)
        where seen.updateValue(plugin, forKey: plugin.name) == nil {
            ordered.append(plugin)
        }
        return ordered
    }

    /// The plugins whose requirement has no finished install in the state directory.
    public func missingPlugins(environment: [String: String]) -> [PluginRequirement] {
        let directory = PluginDirectory(stateDirectory: resolvedStateDirectory(environment: environment))
        return plugins.filter { directory.installed($0.name)?.requirement != $0.requirement }
    }

    /// The configuration with each `pip:` type's command pointing at its plugin's executable
    /// (`<state_dir>/plugins/<name>/current/bin/<program>`) and `about:` defaulted to true for a
    /// plugin built on the Meltano SDK; and one note per plugin left uninstalled.
    ///
    /// Two types naming one package must name the same requirement: they share its environment.
    public func resolvingPlugins(
        _ resolution: PluginResolution, environment: [String: String]
    ) throws(ConfigurationError) -> (configuration: TaplineConfiguration, notes: [String]) {
        var requirements: [String: (requirement: String, owner: String)] = [:]
        let owners =
            sourceTypes.compactMap { t in t.plugin.map { ($0, "source type \(t.type)") } }
            + destinationTypes.compactMap { t in t.plugin.map { ($0, "destination type \(t.type)") } }
        for (plugin, owner) in owners {
            if let earlier = requirements[plugin.name], earlier.requirement != plugin.requirement {
                throw ConfigurationError(
                    "\(owner): pip: \(plugin.requirement) and \(earlier.owner)'s \(earlier.requirement) are one package with two requirements; they share one environment, so give both the same"
                )
            }
            requirements[plugin.name] = (plugin.requirement, owner)
        }
        guard !owners.isEmpty else { return (self, []) }
        let state = resolvedStateDirectory(environment: environment)
        let installer = PluginInstaller(stateDirectory: state, settings: pluginSettings, environment: environment)
        var installed: [String: InstalledPlugin] = [:]
        var notes: [String] = []
        for plugin in plugins {
            if let current = installer.directory.installed(plugin.name), current.requirement == plugin.requirement {
                installed[plugin.name] = current
                continue
            }
            switch resolution {
            case .install(let progress):
                do throws(PluginInstallError) {
                    installed[plugin.name] = try installer.install(plugin, progress: progress)
                } catch {
                    throw ConfigurationError("\(requirements[plugin.name]!.owner): \(error.description)")
                }
            case .installedOnly:
                let other = installer.directory.installed(plugin.name).map { " (installed: \($0.requirement))" } ?? ""
                notes.append(
                    "\(requirements[plugin.name]!.owner): \(plugin.requirement) is not installed\(other); tapline serve installs it when it starts, or run tapline plugins install"
                )
            }
        }
        var resolved = self
        for i in resolved.sourceTypes.indices {
            guard let plugin = resolved.sourceTypes[i].plugin else { continue }
            guard let record = installed[plugin.name] else {
                // Noted above: a tap that is not there cannot describe itself.
                resolved.sourceTypes[i].describesItself = false
                continue
            }
            let program = try Self.program(record, plugin, owner: "source type \(resolved.sourceTypes[i].type)")
            resolved.sourceTypes[i].tapCommand = [installer.directory.command(name: plugin.name, executable: program)]
            if var check = resolved.sourceTypes[i].checkCommand, record.executables.contains(check[0]) {
                check[0] = installer.directory.command(name: plugin.name, executable: check[0])
                resolved.sourceTypes[i].checkCommand = check
            }
            if !resolved.sourceTypes[i].aboutDeclared, record.singerSDK != nil {
                resolved.sourceTypes[i].describesItself = true
            }
        }
        for i in resolved.destinationTypes.indices {
            guard let plugin = resolved.destinationTypes[i].plugin, let record = installed[plugin.name] else { continue }
            let program = try Self.program(record, plugin, owner: "destination type \(resolved.destinationTypes[i].type)")
            resolved.destinationTypes[i].target = [installer.directory.command(name: plugin.name, executable: program)]
        }
        return (resolved, notes)
    }

    static func program(_ record: InstalledPlugin, _ plugin: PluginRequirement, owner: String) throws(ConfigurationError) -> String {
        do throws(PluginInstallError) {
            return try record.executable(for: plugin)
        } catch {
            throw ConfigurationError("\(owner): \(error.description)")
        }
    }
}
