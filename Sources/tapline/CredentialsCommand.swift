import ArgumentParser
import Foundation
import TaplineCluster
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// `tapline credentials rotate-key`: seal every stored credential with a new key.
struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Manage the key that seals credentials at rest.", subcommands: [RotateKey.self])

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Generate a new credentials key and re-seal every stored credential with it, in one transaction.",
            discussion: """
                Run it with the daemon stopped (it takes the same lock); on a cluster (store: postgres://…), with
                every node stopped (it refuses while any node holds a lease), then copy the new key file to every
                node before they start. The new key is written to <key file>.next, the credentials are re-sealed in
                one transaction, then the new key replaces the old file; a crash in between is finished by the next
                start. A key held as a systemd credential cannot be replaced from here: point credentials_key_file
                at a writable file, or re-encrypt with systemd-creds.
                """)

        @Option(name: .long, help: "The YAML configuration file the daemon uses.")
        var config: String?

        @Option(name: .customLong("state-dir"), help: "The daemon's state directory (default ./.tapline).")
        var stateDir: String?

        @Option(name: .customLong("key-file"), help: "The key file to replace (default: as the daemon finds it).")
        var keyFile: String?

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            do {
                let configuration = try ConfigurationLoader.load(
                    path: config, listen: nil, stateDirectory: stateDir, environment: environment)
                let state = configuration.resolvedStateDirectory(environment: environment)
                let key = CredentialsKeyFile.location(
                    configured: (keyFile ?? configuration.credentialsKeyFile).map { TaplineConfiguration.absolute($0) },
                    stateDirectory: state,
                    environment: environment)
                if let credentials = environment["CREDENTIALS_DIRECTORY"], key.path.hasPrefix(credentials + "/") {
                    throw CredentialsKeyFile.Failure("the key is the systemd credential \(key.path), which tapline cannot replace")
                }
                if let cluster = configuration.cluster {
                    try await rotateOnCluster(cluster, key: key.path, configuration: configuration, environment: environment)
                } else {
                    try await rotateOnSQLite(key: key.path, configuration: configuration, environment: environment)
                }
            } catch let error as CredentialsKeyFile.Failure {
                try Self.fail(error.description)
            } catch let error as ConfigurationError {
                try Self.fail(error.description)
            } catch let error as CredentialKeyError {
                try Self.fail(error.description)
            } catch let error as ClusterKeyError {
                try Self.fail(error.description)
            } catch let error as ClusterDatabaseError {
                try Self.fail(error.description)
            }
        }

        static func fail(_ message: String) throws -> Never {
            FileHandle.standardError.write(Data("tapline: \(message)\n".utf8))
            throw ExitCode(1)
        }

        private func rotateOnSQLite(key: String, configuration: TaplineConfiguration, environment: [String: String]) async throws {
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
            let current = try CredentialsKeyFile.load(
                path: key, generate: false, holder: "the database \(database)",
                sealedKeyIDs: { try Store.sealedKeyIDs(path: database) })
            let store = try Store.open(path: database, catalog: configuration.catalog, cipher: current)
            let rotated = try await CredentialsKeyFile.rotate(path: key) { next in try store.resealCredentials(with: next) }
            withExtendedLifetime(lock) {}
            print("re-sealed \(rotated.rows) credentials value(s) with key \(rotated.keyID) (was \(current.keyID)); key file \(key)")
        }

        private func rotateOnCluster(
            _ cluster: ClusterSettings, key: String, configuration: TaplineConfiguration, environment: [String: String]
        ) async throws {
            let password: String?
            do {
                password = try cluster.password(environment: environment)?.password
            } catch {
                throw CredentialsKeyFile.Failure("store_password_file \(error)")
            }
            let (current, rotated) = try await withCommandDatabase(cluster.location, password: password, label: "tapline.credentials") {
                database in
                let known = try await ClusterStore.credentialsKeyIDs(in: database)
                let current = try CredentialsKeyFile.load(
                    path: key, generate: false, holder: "the cluster's database \(cluster.location)", sealedKeyIDs: { known })
                let rotated = try await CredentialsKeyFile.rotate(path: key) { next in
                    try await ClusterStore.resealCredentials(in: database, current: current, next: next)
                }
                return (current, rotated)
            }
            print(
                "re-sealed \(rotated.rows) credentials value(s) in \(cluster.location) with key \(rotated.keyID) (was \(current.keyID)); key file \(key): copy it to every node before they start"
            )
        }
    }
}
