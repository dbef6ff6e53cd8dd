import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// Starts the given due occurrences in **one** write transaction (one fsync for a whole burst).
    ///
    /// For each, the transaction re-checks what the scheduler's memory cannot be trusted with: the
    /// source is active (`paused_at`, `system_paused_at` and `deleted_at` all NULL), its stored
    /// due time is still this occurrence, and no job of it is running. Only then is the job row
    /// inserted and the due time advanced. A pause committed before this transaction is therefore
    /// always seen; one committed after it was acknowledged after the job had started.
    ///
    /// A start later than its occurrence coalesces the occurrences that passed meanwhile into its
    /// one job; they are counted in the batch and, at most once an hour per source, in a
    /// `skipped` event (reason `coalesced`) that says how many since the last such event.
    public func claimScheduledStarts(
        _ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String
    ) throws -> ClaimBatch {
        let catalog = self.catalog
        let ledger = self.coalescing
        return try writer.write { db in
            let hasDestination = try Self.liveDestination(db) != nil
            var coalesced = 0
            let results = try claims.map { claim in
                try Self.claim(
                    db, sourceID: claim.sourceID, occurrence: claim.occurrence, now: now, catalog: catalog,
                    hasDestination: hasDestination, jobName: jobName, ledger: ledger, coalesced: &coalesced)
            }
            return ClaimBatch(results: results, coalescedOccurrences: coalesced)
        }
    }

    private static func claim(
        _ db: Database, sourceID: Int64, occurrence: Date, now: Date, catalog: SourceTypeCatalog, hasDestination: Bool,
        jobName: (Int64) -> String, ledger: CoalescingLedger, coalesced: inout Int
    ) throws -> ClaimResult {
        let source = try fetchSource(db, id: sourceID)
        let plan = try SourceRecord.claimPlan(
            source, occurrence: occurrence, now: now, catalog: catalog, hasDestination: hasDestination,
            runningJob: { try runningJob(db, sourceID: sourceID)?.jobName })
        switch plan {
        case .refuse(let reason, let next, let action):
            switch action {
            case .none: break
            case .systemPause(let why): if let source { try systemPause(db, source: source, reason: why, now: now) }
            case .clearDueTime: try setNextFire(db, sourceID: sourceID, nil)
            }
            return .notDue(sourceID: sourceID, nextFire: next, reason: reason)
        case .overlap(let next, let late, let detail):
            try recordCoalesced(db, late, sourceID: sourceID, now: now, ledger: ledger, total: &coalesced)
            try setNextFire(db, sourceID: sourceID, next)
            try appendEvent(db, sourceID: sourceID, kind: .skipped, actor: .system, at: now, reason: "overlap", detail: detail)
            return .skippedOverlap(sourceID: sourceID, nextFire: next)
        case .start(let occurrence, let attempt, let next, let nextIfExisting, let late):
            try recordCoalesced(db, late, sourceID: sourceID, now: now, ledger: ledger, total: &coalesced)
            let name = jobName(sourceID)
            let inserted = try insertScheduledJob(db, name: name, sourceID: sourceID, occurrence: occurrence, attempt: attempt, now: now)
            try setNextFire(db, sourceID: sourceID, inserted ? next : nextIfExisting)
            guard inserted, let job = try fetchJob(db, name: name), var updated = source else {
                // The attempt already has its job (it ran before a crash): never twice.
                return .notDue(sourceID: sourceID, nextFire: nextIfExisting, reason: .moved)
            }
            updated.nextFireAt = next
            updated.pendingRetry = nil
            return .started(job, source: updated, nextFire: next)
        }
    }

    /// Counts a late start's coalesced occurrences and writes their `skipped` event when due.
    private static func recordCoalesced(
        _ db: Database, _ count: Int, sourceID: Int64, now: Date, ledger: CoalescingLedger, total: inout Int
    ) throws {
        total += count
        if let detail = ledger.eventDetail(adding: count, sourceID: sourceID, at: now) {
            try appendEvent(db, sourceID: sourceID, kind: .skipped, actor: .system, at: now, reason: "coalesced", detail: detail)
        }
    }

    /// Inserts attempt `attempt` of a scheduled occurrence; false when that attempt already has its
    /// job (it started before a crash): never twice.
    private static func insertScheduledJob(
        _ db: Database, name: String, sourceID: Int64, occurrence: Date, attempt: Int, now: Date
    ) throws -> Bool {
        try db.run(
            """
            INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, attempt, status, started_at)
            VALUES (?, ?, 'scheduled', ?, ?, 'running', ?)
            ON CONFLICT DO NOTHING
            """,
            [name, sourceID, StoredTime.millis(occurrence), attempt, StoredTime.millis(now)])
        return db.changesCount == 1
    }
}
