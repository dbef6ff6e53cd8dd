import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// One pruning step, in one short transaction: up to `batch` ended jobs older than the
    /// policy's age, then — from `fromSource` on, until `batch` rows are reached — each source's
    /// ended jobs beyond its newest `jobsPerSource`, then old overlap-skip events and old
    /// connection checks. Running jobs are never touched.
    public func pruneHistory(policy: RetentionPolicy, now: Date, fromSource: Int64?) throws -> PruneResult {
        try writer.write { db in
            var result = PruneResult()
            var budget = policy.batch
            func deleteJobs(_ ids: [Int64]) throws {
                guard !ids.isEmpty else { return }
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                result.logs += try String.fetchAll(
                    db, sql: "SELECT log_path FROM jobs WHERE id IN (\(marks)) AND log_path IS NOT NULL", arguments: StatementArguments(ids)
                )
                try db.execute(sql: "DELETE FROM jobs WHERE id IN (\(marks))", arguments: StatementArguments(ids))
                result.jobs += ids.count
                budget -= ids.count
            }
            if policy.days > 0 {
                let cutoff = StoredTime.millis(now.addingTimeInterval(-policy.days * 86_400))
                try deleteJobs(
                    try Int64.fetchAll(
                        db, sql: "SELECT id FROM jobs WHERE completed_at IS NOT NULL AND completed_at < ? ORDER BY completed_at LIMIT ?",
                        arguments: [cutoff, budget]))
                let events = try Int64.fetchAll(
                    db, sql: "SELECT id FROM source_events WHERE kind = 'skipped' AND at < ? ORDER BY at LIMIT ?",
                    arguments: [cutoff, policy.batch])
                if !events.isEmpty {
                    let marks = Array(repeating: "?", count: events.count).joined(separator: ",")
                    try db.execute(sql: "DELETE FROM source_events WHERE id IN (\(marks))", arguments: StatementArguments(events))
                    result.events = events.count
                }
                try db.execute(
                    sql: """
                        DELETE FROM connection_checks WHERE id IN (
                            SELECT c.id FROM connection_checks c WHERE c.status != 'running' AND c.completed_at < ?
                              AND c.name NOT IN (SELECT check_job_name FROM sources WHERE check_job_name IS NOT NULL) LIMIT ?)
                        """,
                    arguments: [cutoff, policy.batch])
                result.checks = db.changesCount
            }
            if policy.jobsPerSource > 0 {
                var cursor = fromSource ?? 0
                // Bounded too: a step looks at a few hundred sources, not the whole table.
                var visits = 0
                while budget > 0, visits < policy.sourcesPerStep {
                    visits += 1
                    guard let source = try Int64.fetchOne(db, sql: "SELECT min(id) FROM sources WHERE id >= ?", arguments: [cursor]) else {
                        cursor = -1
                        break
                    }
                    // The newest ended job beyond the count: it and everything older go.
                    if let cutoff = try Int64.fetchOne(
                        db, sql: "SELECT id FROM jobs WHERE source_id = ? AND status != 'running' ORDER BY id DESC LIMIT 1 OFFSET ?",
                        arguments: [source, policy.jobsPerSource])
                    {
                        let ids = try Int64.fetchAll(
                            db,
                            sql: "SELECT id FROM jobs WHERE source_id = ? AND id <= ? AND status != 'running' ORDER BY id LIMIT ?",
                            arguments: [source, cutoff, budget])
                        try deleteJobs(ids)
                        if budget <= 0 {
                            cursor = source
                            break
                        }
                    }
                    cursor = source + 1
                }
                result.nextSource = cursor < 0 ? nil : cursor
            }
            result.full = budget <= 0
            return result
        }
    }
}
