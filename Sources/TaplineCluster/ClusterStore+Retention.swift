import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// History retention in PostgreSQL, step by step as in SQLite (`Store.pruneHistory`): each step
/// one short transaction that deletes at most `batch` ended jobs, so a prune never holds row
/// locks long enough to delay a start or a pause on any node. Running jobs are never touched;
/// of the events only overlap and coalescing skips go (the schema refuses any other delete).
extension ClusterStore: HistoryStore {
    public func pruneHistory(policy: RetentionPolicy, now: Date, fromSource: Int64?) async throws -> PruneResult {
        let logger = database.logger
        return try await database.transaction { connection -> PruneResult in
            var result = PruneResult()
            var budget = policy.batch
            func deleteJobs(_ query: PostgresQuery) async throws {
                for try await path in try await connection.query(query, logger: logger).decode(String?.self) {
                    result.jobs += 1
                    budget -= 1
                    if let path { result.logs.append(path) }
                }
            }
            if policy.days > 0 {
                let cutoff = ClusterTime.millis(now.addingTimeInterval(-policy.days * 86_400))
                try await deleteJobs(
                    """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE completed_at IS NOT NULL AND completed_at < \(cutoff) ORDER BY completed_at LIMIT \(budget))
                    RETURNING log_path
                    """)
                for try await _ in try await connection.query(
                    """
                    DELETE FROM source_events WHERE id IN (
                        SELECT id FROM source_events WHERE kind = 'skipped' AND at < \(cutoff) ORDER BY at LIMIT \(policy.batch))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self) {
                    result.events += 1
                }
                for try await _ in try await connection.query(
                    """
                    DELETE FROM connection_checks WHERE id IN (
                        SELECT c.id FROM connection_checks c WHERE c.status <> 'running' AND c.completed_at < \(cutoff)
                          AND c.name NOT IN (SELECT check_job_name FROM sources WHERE check_job_name IS NOT NULL)
                        LIMIT \(policy.batch))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self) {
                    result.checks += 1
                }
            }
            if policy.jobsPerSource > 0 {
                var cursor: Int64? = fromSource ?? 0
                var visits = 0
                // Bounded too: a step looks at a few hundred sources, not the whole table.
                while budget > 0, visits < policy.sourcesPerStep, let from = cursor {
                    visits += 1
                    var source: Int64?
                    for try await id in try await connection.query(
                        "SELECT min(id) FROM sources WHERE id >= \(from)", logger: logger
                    ).decode(Int64?.self) {
                        source = id
                    }
                    guard let source else {
                        cursor = nil
                        break
                    }
                    // The newest ended job beyond the count: it and everything older go.
                    let before = budget
                    try await deleteJobs(
                        """
                        DELETE FROM jobs WHERE id IN (
                            SELECT id FROM jobs WHERE source_id = \(source) AND status <> 'running' AND id <= (
                                SELECT id FROM jobs WHERE source_id = \(source) AND status <> 'running'
                                ORDER BY id DESC LIMIT 1 OFFSET \(policy.jobsPerSource))
                            ORDER BY id LIMIT \(budget))
                        RETURNING log_path
                        """)
                    if budget <= 0, before > 0 {
                        cursor = source
                        break
                    }
                    cursor = source + 1
                }
                result.nextSource = cursor
            }
            result.full = budget <= 0
            return result
        }
    }
}
