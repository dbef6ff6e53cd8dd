import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    static let jobColumns = """
        id, job_name, source_id, trigger, scheduled_for, attempt, status, started_at, completed_at, discovery_exit_status,
        discovery_description, tap_exit_status, tap_description, target_exit_status, target_description,
        process_group, spawned_at, log_path, stream_records
        """

    public func job(name: String) async throws -> JobRecord? {
        try await writer.read { db in try Self.fetchJob(db, name: name) }
    }

    /// A page (1-based, newest first) of a source's jobs, and the total count.
    public func jobs(sourceID: Int64, page: Int, perPage: Int = 100, filter: JobFilter = JobFilter()) async throws
        -> (jobs: [JobRecord], total: Int)
    {
        let (condition, values) = filter.sql
        return try await writer.read { db in
            let base: [any DatabaseValueConvertible] = [sourceID] + values
            let total =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM jobs WHERE source_id = ?\(condition)", arguments: StatementArguments(base)) ?? 0
            let jobs = try JobRecord.fetchAll(
                db,
                sql:
                    "SELECT \(Self.jobColumns) FROM jobs WHERE source_id = ?\(condition) ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
                arguments: StatementArguments(base + [perPage, (page - 1) * perPage]))
            return (jobs, total)
        }
    }

    static func runningJob(_ db: Database, sourceID: Int64) throws -> JobRecord? {
        try db.fetchOne(JobRecord.self, "SELECT \(jobColumns) FROM jobs WHERE source_id = ? AND status = 'running'", [sourceID])
    }

    static func fetchJob(_ db: Database, name: String) throws -> JobRecord? {
        try db.fetchOne(JobRecord.self, "SELECT \(jobColumns) FROM jobs WHERE job_name = ?", [name])
    }

    static func fetchJob(_ db: Database, id: Int64) throws -> JobRecord? {
        try db.fetchOne(JobRecord.self, "SELECT \(jobColumns) FROM jobs WHERE id = ?", [id])
    }

    /// What a job of the source needs from the database, in one read (a burst of starts would
    /// otherwise take three reader connections per job): the live destination, the confirmed
    /// state, and the selected catalog when `withCatalog`.
    public func jobInputs(sourceID: Int64, withCatalog: Bool) throws
        -> (destination: DestinationRecord?, state: String?, catalog: String?)
    {
        try writer.read { db in
            let destination = try Self.liveDestination(db)
            let state = try String.fetchOne(db, sql: "SELECT state FROM source_state WHERE source_id = ?", arguments: [sourceID])
            let catalog = withCatalog ? try Self.selectedCatalog(db, sourceID: sourceID) : nil
            return (destination, state, catalog)
        }
    }
}
