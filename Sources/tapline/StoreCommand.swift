import ArgumentParser
import Foundation
import TaplineCluster
import TaplineCore
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// `tapline store migrate`: move a single node's SQLite database into an empty PostgreSQL
/// database, the first step from one machine to a cluster.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move a store between backends.", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Copy a single node's SQLite database into an empty cluster database, in one transaction.",
            discussion: """
                Stop the single node first (the move takes its lock). Sources with their credentials (still sealed
                with the same key), the destination, jobs, source events, Singer state, loads, streams and
                connection checks are copied with their ids; the cluster's database must hold none of them, and no
                node may be running on it. Every node of the cluster then needs a copy of the credentials key file
                the single node used. Jobs keep naming the machine that ran them (--node), whose disk holds their
                logs: start that machine's node with the same node name and state directory to keep serving them.
                The webhook outbox moves too: configure the nodes with the same webhooks to have its pending
                deliveries sent.
                """)

        @Option(name: .long, help: "The single node's SQLite database (e.g. /var/lib/tapline/tapline.db).")
        var from: String

        @Option(name: .long, help: "The cluster's database: postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…].")
        var to: String

        @Option(name: .customLong("password-file"), help: "A file holding the database user's password (none: no password).")
        var passwordFile: String?

        @Option(name: .long, help: "The node name the moved jobs ran on (default: this machine's host name).")
        var node: String?

        func run() async throws {
            do {
                try await migrate()
            } catch let error as CLIFailure {
                FileHandle.standardError.write(Data("tapline: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
        }

        private func migrate() async throws {
            let location: PostgresLocation
            do {
                location = try PostgresLocation.parse(to)
            } catch {
                throw CLIFailure("--to: \(error)")
            }
            let path = TaplineConfiguration.absolute(from)
            let lock: InstanceLock
            do {
                lock = try InstanceLock(path: path + ".lock")
            } catch let held as InstanceLock.Held {
                throw CLIFailure("tapline is running on \(path) (\(held.holder)); stop it first")
            }
            defer { withExtendedLifetime(lock) {} }
            let export: StoreExport
            do {
                export = try StoreExport(path: path)
            } catch let error as StoreExportError {
                throw CLIFailure(error.description)
            }
            let password = try passwordFile.map(Self.readPassword)
            let summary: ClusterImport.Summary
            do {
                summary = try await withCommandDatabase(location, password: password, label: "tapline.store.migrate") { database in
                    try await ClusterImport(database: database, node: node ?? ClusterSettings.hostName ?? "tapline")
                        .run(from: export, now: Date())
                }
            } catch let error as ClusterDatabaseError {
                throw CLIFailure(error.description)
            } catch let error as ClusterImportError {
                throw CLIFailure(error.description)
            } catch let error as StoreExportError {
                throw CLIFailure(error.description)
            }
            print("moved \(path) into \(location):")
            for (table, count) in summary.rows { print("  \(table): \(count)") }
            if summary.interruptedJobs > 0 {
                print("\(summary.interruptedJobs) job(s) were still running when the single node stopped; they are interrupted")
            }
            if summary.failedChecks > 0 { print("\(summary.failedChecks) connection check(s) were still running; they failed") }
            if let key = summary.keyID {
                print("credentials are sealed with key id \(key): give every node a copy of the key file this install used")
            }
            if summary.pendingDeliveries > 0 {
                print("\(summary.pendingDeliveries) webhook delivery(ies) are pending: nodes configured with their webhooks send them")
            }
        }

        static func readPassword(_ path: String) throws -> String {
            do {
                return try ClusterSettings.readPassword(path: path).password
            } catch {
                throw CLIFailure("--password-file \(error)")
            }
        }
    }
}

/// A command-line failure with its message, printed as `tapline: <message>`.
struct CLIFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
