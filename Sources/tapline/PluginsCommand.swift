import ArgumentParser
import Foundation
import TaplineCore
import TaplineRuntime

/// `tapline plugins list | install | upgrade | remove`: the taps and targets source and
/// destination types name by Python package (`pip:`), each in its own virtual environment under
/// `<state_dir>/plugins/`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "Install, upgrade, list and remove the taps and targets named by a Python package (pip:).",
        discussion: """
            Each plugin gets its own virtual environment under <state_dir>/plugins/<name>/. `tapline serve` installs
            the configured plugins that are missing before it starts; run `tapline plugins install` first to have
            that done (and see pip's output) ahead of a restart. pip's own configuration applies (pip.conf, PIP_INDEX_URL,
            PIP_FIND_LINKS), as do plugins.pip_arguments in the configuration file.
            """,
        subcommands: [List.self, Install.self, Upgrade.self, Remove.self])

    struct Location: ParsableArguments {
        @Option(name: .long, help: "The YAML configuration file the daemon uses.")
        var config: String?

        @Option(name: .customLong("state-dir"), help: "The daemon's state directory (default as the daemon finds it).")
        var stateDir: String?

        func load() -> (TaplineConfiguration, PluginInstaller) {
            let environment = ProcessInfo.processInfo.environment
            do {
                let configuration = try ConfigurationLoader.load(
                    path: config, listen: nil, stateDirectory: stateDir, environment: environment, describeTaps: false)
                let installer = PluginInstaller(
                    stateDirectory: configuration.resolvedStateDirectory(environment: environment),
                    settings: configuration.pluginSettings, environment: environment)
                return (configuration, installer)
            } catch {
                PluginsCommand.fail(error.description)
            }
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tapline: \(message)\n".utf8))
        Foundation.exit(1)
    }

    /// The configured plugins `names` selects (all of them when empty); an unknown name fails.
    static func select(_ names: [String], from configuration: TaplineConfiguration) -> [PluginRequirement] {
        let configured = configuration.plugins
        guard !names.isEmpty else { return configured }
        return names.map { name in
            let normalized = PluginRequirement.normalized(name)
            guard let plugin = configured.first(where: { $0.name == normalized }) else {
                fail(
                    "no source or destination type names a package \(name) with pip:"
                        + (configured.isEmpty ? "" : " (configured: \(configured.map(\.name).joined(separator: ", ")))"))
            }
            return plugin
        }
    }

    static func install(_ plugins: [PluginRequirement], with installer: PluginInstaller, force: Bool) {
        guard !plugins.isEmpty else {
            print("no source or destination type names a package with pip: (nothing to install)")
            return
        }
        var failed: [String] = []
        for plugin in plugins {
            do throws(PluginInstallError) {
                let before = installer.directory.installed(plugin.name)
                let installed = try installer.install(plugin, force: force) { line in print("  \(line)") }
                if !force, before == installed {
                    print("\(plugin.name): \(installed.requirement) is installed (\(installed.version))")
                } else {
                    print("\(plugin.name): installed \(installed.version) from \(installed.requirement)")
                }
            } catch {
                FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
                failed.append(plugin.requirement)
            }
        }
        guard failed.isEmpty else {
            fail("not installed: \(failed.joined(separator: ", ")); the versions in use (if any) are unchanged")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the configured plugins and what is installed of each.")
        @OptionGroup var location: Location

        func run() throws {
            let (configuration, installer) = location.load()
            print("plugins directory: \(installer.directory.root)")
            var listed = Set<String>()
            let users = Dictionary(
                grouping: configuration.sourceTypes.compactMap { t in t.plugin.map { ($0.name, "source \(t.type)") } }
                    + configuration.destinationTypes.compactMap { t in t.plugin.map { ($0.name, "destination \(t.type)") } },
                by: \.0
            ).mapValues { $0.map(\.1) }
            for plugin in configuration.plugins {
                listed.insert(plugin.name)
                let used = users[plugin.name, default: []].joined(separator: ", ")
                if let installed = installer.directory.installed(plugin.name) {
                    let state = installed.requirement == plugin.requirement ? "installed" : "configured \(plugin.requirement), installed"
                    print(
                        "\(plugin.name)  \(state) \(installed.version) (\(installed.requirement)), python \(installed.python)"
                            + (installed.singerSDK.map { ", Meltano SDK \($0)" } ?? "")
                            + ", executables \(installed.executables.joined(separator: " ")), installed \(installed.installedAt); used by \(used)"
                    )
                } else {
                    print("\(plugin.name)  not installed (\(plugin.requirement)); used by \(used)")
                }
            }
            for installed in installer.directory.all() where !listed.contains(installed.name) {
                print("\(installed.name)  installed \(installed.version) (\(installed.requirement)); not in the configuration")
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the configured plugins that are not installed (or those named), showing pip's output.")
        @OptionGroup var location: Location
        @Argument(help: "Package names (default: every configured plugin).")
        var names: [String] = []

        func run() throws {
            let (configuration, installer) = location.load()
            PluginsCommand.install(PluginsCommand.select(names, from: configuration), with: installer, force: false)
        }
    }

    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reinstall plugins in a new environment, resolving their requirements again.",
            discussion: """
                The new environment replaces the one in use only once pip has finished: jobs started after that run
                the new version, jobs already running finish on the old one. A pinned requirement (==) is installed
                again as it is, with its dependencies resolved anew.
                """)
        @OptionGroup var location: Location
        @Argument(help: "Package names (default: every configured plugin).")
        var names: [String] = []

        func run() throws {
            let (configuration, installer) = location.load()
            PluginsCommand.install(PluginsCommand.select(names, from: configuration), with: installer, force: true)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an installed plugin's environments.",
            discussion:
                "A plugin a configured type still names is refused unless --force: the daemon would install it again at its next start.")
        @OptionGroup var location: Location
        @Argument(help: "Package names.")
        var names: [String]
        @Flag(name: .long, help: "Remove it even though a configured type names it.")
        var force = false

        func run() throws {
            let (configuration, installer) = location.load()
            for name in names {
                let normalized = PluginRequirement.normalized(name)
                if !force, configuration.plugins.contains(where: { $0.name == normalized }) {
                    PluginsCommand.fail(
                        "\(normalized) is named by a type in the configuration; remove it there first, or pass --force")
                }
                do throws(PluginInstallError) {
                    try installer.remove(normalized)
                    print("removed \(installer.directory.directory(of: normalized))")
                } catch {
                    PluginsCommand.fail(error.description)
                }
            }
        }
    }
}
