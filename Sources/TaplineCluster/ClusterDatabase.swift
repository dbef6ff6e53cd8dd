import Foundation
import Logging
import NIOSSL
import PostgresNIO
import TaplineCore

/// The cluster's shared PostgreSQL database: one connection pool per node, and the schema.
///
/// `run()` drives the pool (postgres-nio runs its pool in the caller's task) and must be running
/// while any other method is used; a service of the node runs it for the node's lifetime.
public final class ClusterDatabase: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    private let password: String?
    let logger: Logger
    /// How long one call (a transaction or a read) may take by default, waiting for a
    /// connection included.
    let callLimit: Duration

    public init(
        location: PostgresLocation, password: String?, logger: Logger, maximumConnections: Int = 8,
        callLimit: Duration = ClusterDatabase.transactionLimit
    ) {
        self.location = location
        self.logger = logger
        self.callLimit = callLimit
        self.password = password
        let tls: PostgresClient.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: password,
            database: location.database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        // Kept open, so that a lease request queued while connections close is served: the
        // pool (postgres-nio 1.33.2) replaces a closed connection only below this minimum, and
        // a request waiting when the last connection closed (given up past its deadline, or
        // ended by a server crash) was seen to wait until another request came along.
        configuration.options.minimumConnections = min(2, maximumConnections)
        configuration.options.connectTimeout = .seconds(5)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Opens one connection outside the pool and closes it. The pool retries a refused
    /// connection for ever (right while the server restarts), so a node checks once at start:
    /// a wrong password, an unknown database or an unreachable host is then an error that says
    /// so, within `connectTimeout`.
    public func verifyConnection() async throws {
        let tls: PostgresConnection.Configuration.TLS
        switch location.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch let error as PSQLError {
            // The server's words when it answered; else what stopped the connection (refused,
            // unreachable, timed out), not only postgres-nio's code.
            let reason = error.serverInfo?[.message] ?? error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
            throw ClusterDatabaseError(location: location, reason: reason)
        } catch {
            throw ClusterDatabaseError(location: location, reason: "\(error)")
        }
        try await connection.close()
    }

    /// Runs `body` in one transaction. An error thrown by `body` comes out as itself (the
    /// rollback that followed it succeeded); a failure to begin, commit or roll back comes out
    /// as postgres-nio's `PostgresTransactionError`. Limits as `leased`.
    func transaction<Result: Sendable>(
        limit: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        do {
            return try await leased(limit ?? callLimit, "a transaction on the cluster's database") { connection in
                try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
            }
        } catch let error as PostgresTransactionError {
            if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
            throw error
        }
    }

    /// Runs `body` on a connection outside a transaction: reads, and single statements that
    /// commit by themselves (a lease renewal). `body` must have read every row it wants before
    /// it returns. Limits as `leased`.
    func read<Result: Sendable>(
        limit: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await leased(limit ?? callLimit, "a query on the cluster's database", body)
    }

    /// One statement outside a transaction, its rows read by `consume` within the call's limit.
    func query<Result: Sendable>(
        _ query: PostgresQuery, _ consume: @escaping @Sendable (PostgresRowSequence) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await read { connection in try await consume(try await connection.query(query, logger: logger)) }
    }

    /// One statement outside a transaction whose rows, if any, are not read.
    func execute(_ query: PostgresQuery) async throws {
        let logger = self.logger
        try await read { connection in _ = try await connection.query(query, logger: logger) }
    }

    /// Runs `body` on a connection of the pool, answering within `limit` whatever the database
    /// does (and at worst within `limit` plus `giveUpLimit`).
    ///
    /// The wait for a connection counts: with the server down the pool keeps trying to connect
    /// and a waiting caller was seen to hang 67 s, until the pool's circuit breaker tripped. So
    /// `body` gets what is left of `limit` once a connection is leased, and an outer deadline
    /// answers a caller still waiting for one (its lease request is then cancelled).
    ///
    /// `body` out of time closes its connection before the lease goes back, so the pool never
    /// lends it again: after a server crash, a query racing the connection's end was seen never
    /// to finish, and every such connection kept from the pool left one slot fewer, until
    /// nothing could start or end a job (seen in `scripts/cluster`: no start for 25 s after the
    /// database came back). The caller hears of it once the connection is closed and given
    /// back, so its next call does not queue behind it (the outer deadline allows for that
    /// close). What the transaction did is undone by the server, which sees the connection go.
    private func leased<Result: Sendable>(
        _ limit: Duration, _ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let client = self.client
        let began = ContinuousClock.now
        return try await withDeadline(limit + Self.giveUpLimit + .milliseconds(250), what) {
            try await client.withConnection { connection in
                let left = max(limit - (ContinuousClock.now - began), .milliseconds(1))
                do {
                    return try await withDeadline(left, what, limit: limit) { try await body(connection) }
                } catch let error as ClusterDeadlineExceeded {
                    await Self.giveUp(connection)
                    throw error
                }
            }
        }
    }

    /// How long closing a connection that overran may take before it is left.
    static let giveUpLimit = Duration.seconds(1)

    /// Closes a leased connection that overran its deadline, before its lease goes back, so the
    /// pool does not lend it again meanwhile (a close in a task of its own lost that race under
    /// load); a close that does not answer either is left after a second.
    static func giveUp(_ connection: PostgresConnection) async {
        _ = try? await withDeadline(giveUpLimit, "closing a connection") { try await connection.close() }
    }

    /// How long a transaction may take by default: less than the runtime store's own limit
    /// (`ClusterRuntimeStore`, 10 s), so its connection is given up before its caller gives up.
    public static let transactionLimit = Duration.seconds(8)

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Creates or upgrades the schema. Nodes starting together serialize on an advisory lock,
    /// so each version is applied once; a version already applied is skipped.
    public func migrate() async throws {
        try await transaction(limit: .seconds(600)) { [logger] connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS tapline_schema (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM tapline_schema", logger: logger)
                .decode(Int.self)
            {
                applied.insert(version)
            }
            for migration in Self.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO tapline_schema (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                logger.info(
                    "cluster schema migrated",
                    metadata: ["schema.version": "\(migration.version)", "schema.name": "\(migration.name)"])
            }
        }
    }

    /// The schema versions applied, in order.
    public func schemaVersions() async throws -> [Int] {
        let logger = self.logger
        return try await read { connection in
            var versions: [Int] = []
            for try await version in try await connection.query("SELECT version FROM tapline_schema ORDER BY version", logger: logger)
                .decode(Int.self)
            {
                versions.append(version)
            }
            return versions
        }
    }

    /// The key of the advisory lock that serializes migrations (any constant no other user of
    /// the database is likely to pick: "tapline" in ASCII).
    static let migrationLock: Int64 = 0x7461_706C_696E_65
}

/// The cluster's database cannot be reached as configured.
public struct ClusterDatabaseError: Error, CustomStringConvertible {
    public let location: PostgresLocation
    public let reason: String
    public var description: String { "cannot connect to \(location): \(reason)" }
}
