import Foundation
import PostgresNIO
import TaplineStoreContract

/// Moves a single node's SQLite database into an empty cluster database (`tapline store
/// migrate`): sources with their sealed credentials, the destination, jobs, the audit trail,
/// Singer state, loads, streams and connection checks, with their ids, in one transaction, so
/// the cluster holds all of it or nothing.
///
/// Credentials are copied sealed, as they are: the cluster records their key's id, and every
/// node must start with a copy of that key file. Jobs and checks that were running when the
/// single node stopped end as its next start would have ended them (`interrupted`, `failed`).
/// Jobs name `node` (epoch 0, a life no node will have), the machine whose disk holds their logs.
/// The webhook outbox moves too: pending deliveries are sent by the nodes configured with their
/// webhooks (a node's start abandons those of webhooks it is not configured with).
public struct ClusterImport: Sendable {
    public let database: ClusterDatabase
    public let node: String

    public init(database: ClusterDatabase, node: String) {
        self.database = database
        self.node = node
    }

    /// What a move copied.
    public struct Summary: Sendable {
        /// Rows per table, in the order they were copied.
        public var rows: [(table: String, count: Int)] = []
        public var interruptedJobs = 0
        public var failedChecks = 0
        /// The key the copied credentials are sealed with (`nil`: none is sealed).
        public var keyID: String?
        /// Webhook deliveries still pending, moved with the rest.
        public var pendingDeliveries = 0
    }

    /// How a column's SQLite value becomes PostgreSQL's.
    enum Kind {
        case integer, text, time, json, boolean
        /// The same value in every row, for a column SQLite does not have.
        case constant(ExportedValue)
        /// SQL around the placeholder `$` (the value cast as text or as an instant), for values that
        /// change on the way.
        case textVia(String)
        case timeVia(String)

        func placeholder(_ n: Int) -> String {
            switch self {
            case .integer: "$\(n)::bigint"
            case .text, .constant(.text), .constant(.null), .constant(.real): "$\(n)::text"
            case .constant(.integer): "$\(n)::bigint"
            case .time: "$\(n)::timestamptz"
            case .json: "$\(n)::text::jsonb"
            case .boolean: "($\(n)::bigint <> 0)"
            case .textVia(let around): around.replacingOccurrences(of: "$", with: "$\(n)::text")
            case .timeVia(let around): around.replacingOccurrences(of: "$", with: "$\(n)::timestamptz")
            }
        }
    }

    struct Column {
        let name: String
        let kind: Kind
        init(_ name: String, _ kind: Kind) {
            self.name = name
            self.kind = kind
        }
    }

    struct Table {
        let name: String
        let columns: [Column]
        /// Its identity column, whose sequence goes on after the copied ids.
        let identity: String?
    }

    /// The tables in the order their references need, with SQLite's columns and PostgreSQL's
    /// type for each. `now` is the instant of the move (for what was left running).
    static func tables(node: String, now: String) -> [Table] {
        let ended = "coalesce($, '\(now)'::timestamptz)"
        return [
            Table(
                name: "destinations",
                columns: [
                    .init("id", .integer), .init("type", .text), .init("properties", .json), .init("credentials", .text),
                    .init("created_at", .time), .init("updated_at", .time), .init("deleted_at", .time),
                ], identity: "id"),
            Table(
                name: "sources",
                columns: [
                    .init("id", .integer), .init("name", .text), .init("display_name", .text), .init("type", .text),
                    .init("properties", .json), .init("credentials", .text), .init("frequency_in_minutes", .integer),
                    .init("anchor_time", .time), .init("cron_expression", .text), .init("cron_timezone", .text),
                    .init("destination_id", .integer), .init("paused_at", .time), .init("system_paused_at", .time),
                    .init("system_pause_reason", .text), .init("deleted_at", .time), .init("next_fire_at", .time),
                    .init("retry_attempt", .integer), .init("retry_occurrence", .time), .init("retry_resume_at", .time),
                    .init("check_job_name", .text), .init("created_at", .time), .init("updated_at", .time),
                ], identity: "id"),
            Table(
                name: "jobs",
                columns: [
                    .init("id", .integer), .init("job_name", .text), .init("source_id", .integer), .init("trigger", .text),
                    .init("scheduled_for", .time), .init("attempt", .integer),
                    .init("status", .textVia("(CASE WHEN $ = 'running' THEN 'interrupted' ELSE $ END)")),
                    .init("node", .constant(.text(node))), .init("node_epoch", .constant(.integer(0))),
                    .init("started_at", .time), .init("completed_at", .timeVia(ended)),
                    .init("discovery_exit_status", .integer), .init("discovery_description", .text),
                    .init("tap_exit_status", .integer), .init("tap_description", .text),
                    .init("target_exit_status", .integer), .init("target_description", .text),
                    .init("process_group", .integer), .init("spawned_at", .time), .init("log_path", .text),
                    .init("stream_records", .json),
                ], identity: "id"),
            Table(
                name: "source_events",
                columns: [
                    .init("id", .integer), .init("source_id", .integer), .init("at", .time), .init("kind", .text),
                    .init("actor", .text), .init("reason", .text), .init("detail", .text),
                ], identity: "id"),
            Table(
                name: "source_state",
                columns: [.init("source_id", .integer), .init("state", .text), .init("job_name", .text), .init("updated_at", .time)],
                identity: nil),
            Table(
                name: "stream_loads",
                columns: [
                    .init("source_id", .integer), .init("stream_name", .text), .init("last_batch_loaded_at", .time),
                    .init("error_state", .text), .init("records", .integer), .init("job_name", .text), .init("updated_at", .time),
                ], identity: nil),
            Table(
                name: "source_streams",
                columns: [
                    .init("id", .integer), .init("source_id", .integer), .init("tap_stream_id", .text), .init("stream_name", .text),
                    .init("schema", .text), .init("metadata", .text), .init("selected", .boolean), .init("catalog_entry", .text),
                ], identity: "id"),
            Table(
                name: "connection_checks",
                columns: [
                    .init("id", .integer), .init("name", .text), .init("source_id", .integer),
                    .init("status", .textVia("(CASE WHEN $ = 'running' THEN 'failed' ELSE $ END)")),
                    .init("started_at", .time), .init("completed_at", .timeVia(ended)),
                    .init("discovery_exit_status", .integer), .init("discovery_error_message", .text),
                ], identity: "id"),
            Table(name: "webhooks", columns: [.init("name", .text), .init("url", .text), .init("events", .text)], identity: nil),
            Table(
                name: "webhook_deliveries",
                columns: [
                    .init("id", .integer), .init("webhook", .text), .init("event", .text), .init("source_id", .integer),
                    .init("job_id", .integer), .init("reason", .text), .init("created_at", .time), .init("attempts", .integer),
                    .init("next_attempt_at", .time), .init("delivered_at", .time), .init("abandoned_at", .time),
                    .init("last_status", .integer), .init("last_error", .text),
                ], identity: "id"),
        ]
    }

    /// The tables a move fills, each of which must be empty beforehand but `webhooks`
    /// (configuration, which every node's start rewrites: the move replaces it).
    public static let tableNames = tables(node: "", now: "").map(\.name)

    /// Rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement.
    static func batchSize(columns: Int) -> Int { min(1_000, 30_000 / columns) }

    /// Copies everything `export` holds, refusing (and changing nothing) when the database is not
    /// empty, a node holds a lease on it, or its recorded credentials key is not the one the
    /// rows are sealed with.
    public func run(from export: any TableExport, now: Date) async throws -> Summary {
        let sealed = try export.sealedKeyIDs()
        guard sealed.count <= 1 else {
            throw ClusterImportError(
                "\(export.path) holds credentials sealed with \(sealed.count) keys (\(sealed.sorted().joined(separator: ", "))); run `tapline credentials rotate-key` on it first"
            )
        }
        var summary = Summary()
        summary.keyID = sealed.first
        summary.pendingDeliveries = try export.pendingDeliveries()
        let moment = ClusterImport.timestamp(now)
        let tables = Self.tables(node: node, now: moment)
        let logger = database.logger
        // A long history takes long to copy: no limit a daemon's transactions have.
        summary = try await database.transaction(limit: .seconds(6 * 3600)) { [summary] connection in
            var summary = summary
            // Two moves (or a move and a node's first start) must not interleave.
            try await connection.query("SELECT pg_advisory_xact_lock(\(ClusterDatabase.migrationLock))", logger: logger)
            try await Self.requireEmpty(connection, tables: tables, logger: logger)
            if let keyID = summary.keyID {
                try await Self.recordKey(keyID, connection: connection, logger: logger)
            }
            for table in tables {
                let copied = try await Self.copy(table, from: export, into: connection, logger: logger)
                summary.rows.append((table.name, copied))
            }
            summary.interruptedJobs = try await Self.count(
                "SELECT count(*) FROM jobs WHERE status = 'interrupted' AND completed_at = \(moment)::timestamptz", connection, logger)
            summary.failedChecks = try await Self.count(
                "SELECT count(*) FROM connection_checks WHERE status = 'failed' AND completed_at = \(moment)::timestamptz", connection,
                logger)
            try await connection.query(
                "UPDATE jobs SET discovery_description = 'Interrupted', tap_description = 'Interrupted', target_description = 'Interrupted' WHERE status = 'interrupted' AND completed_at = \(moment)::timestamptz AND node_epoch = 0",
                logger: logger)
            try await connection.query(
                "UPDATE connection_checks SET discovery_error_message = 'Interrupted' WHERE status = 'failed' AND completed_at = \(moment)::timestamptz",
                logger: logger)
            return summary
        }
        return summary
    }

    static func requireEmpty(_ connection: PostgresConnection, tables: [Table], logger: Logger) async throws {
        // The webhooks are configuration, written by every node's start: the single node's
        // replace whatever a node wrote.
        try await connection.query("DELETE FROM webhooks", logger: logger)
        for table in tables where table.name != "webhooks" {
            let rows = try await count(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)"), connection, logger)
            if rows > 0 {
                throw ClusterImportError(
                    "the cluster's database is not empty (\(table.name) has \(rows) row(s)); a move fills an empty database only, nothing was changed"
                )
            }
        }
        if let serving = try await ClusterMembership.servingNode(connection, logger: logger) {
            throw ClusterImportError(
                "node \(serving.name) holds a lease on the cluster's database until \(timestamp(serving.until)); stop every node first")
        }
    }

    /// The cluster takes the key the moved credentials are sealed with, unless it already
    /// recorded another (nodes started on it with their own key).
    static func recordKey(_ keyID: String, connection: PostgresConnection, logger: Logger) async throws {
        do {
            try await ClusterStore.recordKey(keyID, setBy: "tapline store migrate", connection: connection, logger: logger)
        } catch ClusterKeyError.otherKey(_, let recorded, let setBy) {
            throw ClusterImportError(
                "the cluster's database records credentials key id \(recorded) (first used by node \(setBy)), but the moved credentials are sealed with key id \(keyID); use a new database, or delete that row of cluster_settings if no node uses the cluster yet"
            )
        }
    }

    /// Copies one table page by page; returns how many rows it now holds, which must be how
    /// many SQLite has.
    static func copy(_ table: Table, from export: any TableExport, into connection: PostgresConnection, logger: Logger) async throws -> Int
    {
        let names = table.columns.map(\.name)
        let sourceColumns = table.columns.compactMap { column -> String? in
            if case .constant = column.kind { return nil }
            return column.name
        }
        let limit = batchSize(columns: table.columns.count)
        var last: Int64 = 0
        while true {
            let rows = try export.rows(of: table.name, columns: sourceColumns, after: last, limit: limit)
            guard let final = rows.last else { break }
            last = final.rowid
            var bindings = PostgresBindings(capacity: rows.count * table.columns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(rows.count)
            var n = 0
            for row in rows {
                var values = row.values.makeIterator()
                var placeholders: [String] = []
                for column in table.columns {
                    n += 1
                    placeholders.append(column.kind.placeholder(n))
                    if case .constant(let value) = column.kind {
                        try bind(value, as: column, table: table.name, into: &bindings)
                    } else {
                        try bind(values.next() ?? .null, as: column, table: table.name, into: &bindings)
                    }
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
            let sql = "INSERT INTO \(table.name) (\(names.joined(separator: ", ")))\(overriding) VALUES \(tuples.joined(separator: ", "))"
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
        if let identity = table.identity {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "SELECT setval(pg_get_serial_sequence('\(table.name)', '\(identity)'), max(\(identity))) FROM \(table.name) HAVING count(*) > 0"
                ), logger: logger)
        }
        let copied = try await count(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.name)"), connection, logger)
        let expected = try export.count(of: table.name)
        guard copied == expected else {
            throw ClusterImportError("\(table.name): \(expected) row(s) in SQLite, \(copied) copied; nothing was changed")
        }
        return copied
    }

    static func bind(_ value: ExportedValue, as column: Column, table: String, into bindings: inout PostgresBindings) throws {
        switch (value, column.kind) {
        case (.null, _): bindings.appendNull()
        case (.integer(let v), .integer), (.integer(let v), .boolean), (.integer(let v), .constant): bindings.append(v)
        case (.integer(let v), _): bindings.append(String(v))
        case (.real(let v), .integer) where v == v.rounded(): bindings.append(Int64(v))
        case (.real(let v), _): bindings.append(String(v))
        case (.text(let v), .integer), (.text(let v), .boolean):
            guard let parsed = Int64(v) else { throw ClusterImportError("\(table).\(column.name) holds \"\(v)\", not an integer") }
            bindings.append(parsed)
        case (.text(let v), _): bindings.append(v)
        }
    }

    static func count(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger) async throws -> Int {
        for try await value in try await connection.query(query, logger: logger).decode(Int.self) { return value }
        return 0
    }

    /// An instant as PostgreSQL reads it back exactly (milliseconds, UTC).
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// A move into a cluster that was refused or failed; nothing was changed.
public struct ClusterImportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
