import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The cluster's shared PostgreSQL database: one connection pool per node, and the schema.
///
/// `run()` drives the pool (postgres-nio runs its pool in the caller's task) and must be running
/// while any other method is used; a service of the node runs it for the node's lifetime.
public final class ClusterDatabase: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    private let password: String?
    let logger: Logger

    public init(location: PostgresLocation, password: String?, logger: Logger, maximumConnections: Int = 8) {
        self.location = location
        self.logger = logger
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
            throw ClusterDatabaseError(location: location, reason: error.serverInfo?[.message] ?? "\(error.code)")
        } catch {
            throw ClusterDatabaseError(location: location, reason: "\(error)")
        }
        try await connection.close()
    }

    /// Runs `body` in one transaction. An error thrown by `body` comes out as itself (the
    /// rollback that followed it succeeded); a failure to begin, commit or roll back comes out
    /// as postgres-nio's `PostgresTransactionError`.
    func transaction<Result: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let thrown = error.closureError, error.rollbackError == nil { throw thrown }
            throw error
        }
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Creates or upgrades the schema. Nodes starting together serialize on an advisory lock,
    /// so each version is applied once; a version already applied is skipped.
    public func migrate() async throws {
        try await transaction { [logger] connection in
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
        var versions: [Int] = []
        for try await version in try await client.query("SELECT version FROM tapline_schema ORDER BY version", logger: logger)
            .decode(Int.self)
        {
            versions.append(version)
        }
        return versions
    }

    /// The key of the advisory lock that serializes migrations (any constant no other user of
    /// the database is likely to pick: "tapline" in ASCII).
    static let migrationLock: Int64 = 0x7461_706C_696E_65

    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(
            version: 1, name: "nodes",
            statements: [
                """
                CREATE TABLE nodes (
                    name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 253),
                    epoch bigint NOT NULL CHECK (epoch > 0),
                    instance uuid NOT NULL,
                    address text NOT NULL,
                    joined_at timestamptz NOT NULL,
                    renewed_at timestamptz NOT NULL,
                    lease_expires_at timestamptz NOT NULL,
                    left_at timestamptz,
                    CHECK (lease_expires_at >= renewed_at)
                )
                """,
                "COMMENT ON TABLE nodes IS 'tapline cluster members: one row per node name; epoch rises at each join and fences what an earlier life wrote'",
            ]),
        // The columns of SQLite's `sources` and `jobs` (README "The SQLite schema"), with the
        // same CHECKs, and on each job the node (and its epoch) that runs it.
        Migration(
            version: 2, name: "sources and jobs",
            statements: [
                """
                CREATE TABLE sources (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    name text NOT NULL UNIQUE,
                    display_name text NOT NULL,
                    type text NOT NULL,
                    properties jsonb NOT NULL DEFAULT '{}',
                    credentials text NOT NULL DEFAULT '{}',
                    frequency_in_minutes integer CHECK (frequency_in_minutes IN (1, 30, 60, 360, 720, 1440)),
                    anchor_time timestamptz,
                    cron_expression text,
                    cron_timezone text,
                    destination_id bigint,
                    paused_at timestamptz,
                    system_paused_at timestamptz,
                    system_pause_reason text,
                    deleted_at timestamptz,
                    next_fire_at timestamptz,
                    retry_attempt integer,
                    retry_occurrence timestamptz,
                    retry_resume_at timestamptz,
                    check_job_name text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    CHECK ((system_paused_at IS NULL) = (system_pause_reason IS NULL)),
                    CHECK (next_fire_at IS NULL OR (paused_at IS NULL AND system_paused_at IS NULL AND deleted_at IS NULL)),
                    CHECK (retry_attempt IS NULL OR next_fire_at IS NOT NULL)
                )
                """,
                "CREATE INDEX sources_due ON sources (next_fire_at) WHERE next_fire_at IS NOT NULL",
                """
                CREATE TABLE jobs (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    job_name text NOT NULL UNIQUE,
                    source_id bigint NOT NULL REFERENCES sources (id),
                    trigger text NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
                    scheduled_for timestamptz,
                    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
                    status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'stopped', 'interrupted')),
                    node text NOT NULL,
                    node_epoch bigint NOT NULL,
                    started_at timestamptz NOT NULL DEFAULT now(),
                    completed_at timestamptz,
                    discovery_exit_status integer,
                    discovery_error_message text,
                    tap_exit_status integer,
                    tap_error_message text,
                    target_exit_status integer,
                    target_error_message text,
                    process_group integer,
                    spawned_at timestamptz,
                    log_path text,
                    stream_records jsonb,
                    CHECK ((trigger = 'scheduled') = (scheduled_for IS NOT NULL)),
                    CHECK ((status = 'running') = (completed_at IS NULL))
                )
                """,
                "CREATE UNIQUE INDEX jobs_one_running ON jobs (source_id) WHERE status = 'running'",
                "CREATE UNIQUE INDEX jobs_one_per_attempt ON jobs (source_id, scheduled_for, attempt) WHERE scheduled_for IS NOT NULL",
                "CREATE INDEX jobs_running_on_node ON jobs (node, node_epoch) WHERE status = 'running'",
            ]),
        Migration(
            version: 3, name: "reaped epochs",
            statements: [
                "ALTER TABLE nodes ADD COLUMN reaped_epoch bigint",
                "COMMENT ON COLUMN nodes.reaped_epoch IS 'the epoch whose running jobs were marked interrupted after its lease expired'",
            ]),
    ]
}

/// The cluster's database cannot be reached as configured.
public struct ClusterDatabaseError: Error, CustomStringConvertible {
    public let location: PostgresLocation
    public let reason: String
    public var description: String { "cannot connect to \(location): \(reason)" }
}
