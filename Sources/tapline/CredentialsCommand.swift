import ArgumentParser
import Foundation
import TaplineRuntime
import TaplineStore

/// `tapline credentials rotate-key`: seal every stored credential with a new key.
struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Manage the key that seals credentials at rest.", subcommands: [RotateKey.self])

    struct RotateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Generate a new credentials key and re-seal every stored credential with it, in one transaction.",
            discussion: """
                Run it with the daemon stopped (it takes the same lock). The new key is written to <key file>.next,
                the credentials are re-sealed in one transaction, then the new key replaces the old file; a crash
                in between is finished by the next start. A key held as a systemd credential cannot be replaced
                from here: point credentials_key_file at a writable file, or re-encrypt with systemd-creds.
                """)

        @Option(name: .long, help: "The YAML configuration file the daemon uses.")
        var config: String?

        @Option(name: .customLong("state-dir"), help: "The daemon's state directory (default ./.tapline).")
        var stateDir: String?

        @Option(name: .customLong("key-file"), help: "The key file to replace (default: as the daemon finds it).")
        var keyFile: String?

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            do {
                let configuration = try ConfigurationLoader.load(
                    path: config, listen: nil, stateDirectory: stateDir, environment: environment)
                let state = configuration.resolvedStateDirectory(environment: environment)
                let database = configuration.resolvedDatabase(environment: environment)
                guard FileManager.default.fileExists(atPath: database) else {
                    throw CredentialsKeyFile.Failure("no database at \(database)")
                }
                let lock: InstanceLock
                do {
                    lock = try InstanceLock(path: database + ".lock")
                } catch let held as InstanceLock.Held {
                    throw CredentialsKeyFile.Failure("tapline is running (\(held.holder)); stop it first: the key is read only at start")
                }
                let key = CredentialsKeyFile.location(
                    configured: (keyFile ?? configuration.credentialsKeyFile).map { TaplineConfiguration.absolute($0) }, stateDirectory: state,
                    environment: environment)
                if let credentials = environment["CREDENTIALS_DIRECTORY"], key.path.hasPrefix(credentials + "/") {
                    throw CredentialsKeyFile.Failure("the key is the systemd credential \(key.path), which tapline cannot replace")
                }
                let current = try CredentialsKeyFile.load(path: key.path, generate: false, database: database)
                let store = try Store.open(path: database, catalog: configuration.catalog, cipher: current)
                let rotated = try CredentialsKeyFile.rotate(path: key.path, store: store, current: current)
                withExtendedLifetime(lock) {}
                print("re-sealed \(rotated.rows) credentials value(s) with key \(rotated.keyID) (was \(current.keyID)); key file \(key.path)")
            } catch let error as CredentialsKeyFile.Failure {
                FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
                throw ExitCode(1)
            } catch let error as ConfigurationError {
                FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
                throw ExitCode(1)
            } catch let error as CredentialKeyError {
                FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
