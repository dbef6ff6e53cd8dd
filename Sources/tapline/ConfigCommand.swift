import ArgumentParser
import Foundation
import TaplineRuntime

/// `tapline config check`: validate a configuration without starting anything.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a configuration file (and the environment overrides); print the result.")

        @Option(name: .long, help: "The YAML configuration file to check.")
        var config: String?

        func run() throws {
            do {
                let (configuration, notes) = try ConfigurationLoader.loadNoting(
                    path: config, listen: nil, stateDirectory: nil, environment: ProcessInfo.processInfo.environment)
                for note in notes { print("note: \(note)") }
                print(
                    "configuration ok: listen \(configuration.listen), state_dir \(configuration.resolvedStateDirectory()), "
                        + "source types \(configuration.catalog.sorted.map(\.type).joined(separator: ", "))")
            } catch {
                FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
