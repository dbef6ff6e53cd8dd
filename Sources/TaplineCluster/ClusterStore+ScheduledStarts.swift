import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// Scheduled starts in the shared database: exactly one start per occurrence across nodes.
///
/// One transaction per claim. It takes the claiming node's row `FOR SHARE` and requires its
/// lease to be valid (a node the cluster may believe dead starts nothing, and the reaper, which
/// locks that row to interrupt a dead node's jobs, waits for a claim in progress). Then it locks
/// the claimed sources `FOR UPDATE SKIP LOCKED`: a source another node is starting (or another
/// write holds) is not waited for but answered `busy`, and stays due on this node; the other
/// commit's announcement usually moves it first. Each locked source goes through the same
/// `ClaimPlan` as in SQLite, read under that lock: a pause is an UPDATE of the same row, so it
/// either committed before (and is seen) or waits until this start has committed (and was
/// acknowledged after it). `jobs_one_per_attempt` backs the plan up: an attempt that already has
/// its job is never inserted twice.
extension ClusterStore {
    public func claimScheduledStarts(_ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String)
        async throws -> ClaimBatch
    {
        guard !claims.isEmpty else { return ClaimBatch(results: [], coalescedOccurrences: 0) }
        guard let node = membership else { throw ClusterStartError.noLease }
        let names = Dictionary(claims.map { ($0.sourceID, jobName($0.sourceID)) }, uniquingKeysWith: { first, _ in first })
        let ids = Array(Set(claims.map(\.sourceID))).sorted()
        let logger = database.logger
        let catalog = self.catalog
        let ledger = coalescing
        let asked = ContinuousClock.now
        return try await database.transaction { connection -> ClaimBatch in
            try await Self.requireLease(connection, logger: logger, node: node)
            // A claim that waited for the database (a connection through an outage, the lease
            // row held) is dated when it runs, not when it was planned: its jobs' started_at
            // must not fall inside the time the database was out of reach.
            let waited = ContinuousClock.now - asked
            let now = waited > Self.claimWaitDated ? now.addingTimeInterval(waited.timeInterval) : now
            let hasDestination = try await Self.hasLiveDestination(connection, logger: logger)
            let locked = try await self.sources(
                from: try await connection.query(
                    "SELECT \(unescaped: Self.sourceColumns) FROM sources WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE SKIP LOCKED",
                    logger: logger))
            let byID = Dictionary(locked.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            var running: [Int64: String] = [:]
            for try await (sourceID, name) in try await connection.query(
                "SELECT source_id, job_name FROM jobs WHERE source_id = ANY(\(locked.map(\.id))) AND status = 'running'",
                logger: logger
            ).decode((Int64, String).self) {
                running[sourceID] = name
            }
            // The committed due times of the rows another transaction holds.
            let held = ids.filter { byID[$0] == nil }
            var heldDue: [Int64: Date?] = [:]
            for try await (sourceID, due) in try await connection.query(
                "SELECT id, next_fire_at FROM sources WHERE id = ANY(\(held))", logger: logger
            ).decode((Int64, Date?).self) {
                heldDue[sourceID] = due.map(ClusterTime.read)
            }

            var coalesced = 0
            var results: [ClaimResult] = []
            var current = byID
            var handled: Set<Int64> = []
            for (sourceID, occurrence) in claims {
                // A source claimed twice in one batch is planned again from its row as this
                // transaction left it.
                if handled.contains(sourceID), current[sourceID] != nil {
                    current[sourceID] = try await self.fetchSource(connection, id: sourceID, lock: false)
                }
                handled.insert(sourceID)
                guard let source = current[sourceID] else {
                    switch heldDue[sourceID] {
                    case .none: results.append(.notDue(sourceID: sourceID, nextFire: nil, reason: .deleted))
                    case .some(let due?) where ClusterTime.millis(due) == ClusterTime.millis(occurrence):
                        results.append(.notDue(sourceID: sourceID, nextFire: occurrence, reason: .busy))
                    case .some(let due): results.append(.notDue(sourceID: sourceID, nextFire: due, reason: .moved))
                    }
                    continue
                }
                let plan = SourceRecord.claimPlan(
                    source, occurrence: occurrence, now: now, catalog: catalog, hasDestination: hasDestination,
                    runningJob: { running[sourceID] })
                let result = try await self.carryOut(
                    plan, source: source, now: now, jobName: names[sourceID] ?? "\(sourceID)", node: node,
                    connection: connection, ledger: ledger, coalesced: &coalesced)
                if case .started(let job, _, _) = result { running[sourceID] = job.jobName }
                results.append(result)
            }
            return ClaimBatch(results: results, coalescedOccurrences: coalesced)
        }
    }

    /// How long a claim may wait for the database before its `now` moves by the wait.
    static let claimWaitDated = Duration.milliseconds(500)

    private func carryOut(
        _ plan: ClaimPlan, source: SourceRecord, now: Date, jobName: String, node: NodeMembership, connection: PostgresConnection,
        ledger: CoalescingLedger, coalesced: inout Int
    ) async throws -> ClaimResult {
        let logger = database.logger
        switch plan {
        case .refuse(let reason, let next, let action):
            switch action {
            case .none: break
            case .systemPause(let why):
                try await Self.systemPause(connection, logger: logger, source: source, reason: why, now: now)
            case .clearDueTime: try await Self.setNextFire(connection, logger: logger, sourceID: source.id, nil)
            }
            return .notDue(sourceID: source.id, nextFire: next, reason: reason)
        case .overlap(let next, let late, let detail):
            try await recordCoalesced(connection, late, sourceID: source.id, now: now, ledger: ledger, total: &coalesced)
            try await Self.setNextFire(connection, logger: logger, sourceID: source.id, next)
            try await Self.appendEvent(
                connection, logger: logger, sourceID: source.id, kind: .skipped, actor: .system, at: now, reason: "overlap",
                detail: detail)
            return .skippedOverlap(sourceID: source.id, nextFire: next)
        case .start(let occurrence, let attempt, let next, let nextIfExisting, let late):
            try await recordCoalesced(connection, late, sourceID: source.id, now: now, ledger: ledger, total: &coalesced)
            let job = try await Self.jobs(
                from: try await connection.query(
                    """
                    INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, attempt, status, node, node_epoch, started_at)
                    VALUES (\(jobName), \(source.id), 'scheduled', \(ClusterTime.millis(occurrence)), \(attempt), 'running',
                        \(node.name), \(node.epoch), \(ClusterTime.millis(now)))
                    ON CONFLICT DO NOTHING
                    RETURNING \(unescaped: Self.jobColumns)
                    """, logger: logger)
            ).first
            try await Self.setNextFire(connection, logger: logger, sourceID: source.id, job == nil ? nextIfExisting : next)
            guard let job else {
                // The attempt already has its job (it started before a crash): never twice.
                return .notDue(sourceID: source.id, nextFire: nextIfExisting, reason: .moved)
            }
            var updated = source
            updated.nextFireAt = next
            updated.pendingRetry = nil
            return .started(job, source: updated, nextFire: next)
        }
    }

    /// Counts a late start's coalesced occurrences and writes their `skipped` event when due
    /// (each node keeps its own ledger: at most one such event an hour per source and node).
    private func recordCoalesced(
        _ connection: PostgresConnection, _ count: Int, sourceID: Int64, now: Date, ledger: CoalescingLedger, total: inout Int
    ) async throws {
        total += count
        if let detail = ledger.eventDetail(adding: count, sourceID: sourceID, at: now) {
            try await Self.appendEvent(
                connection, logger: database.logger, sourceID: sourceID, kind: .skipped, actor: .system, at: now,
                reason: "coalesced", detail: detail)
        }
    }
}

/// Why a node started nothing: by design, not a fault (`StoreRefusal`), so the scheduler
/// logs it as a warning and tries again once the node holds its lease.
public enum ClusterStartError: Error, Equatable, CustomStringConvertible, StoreRefusal {
    /// The node's lease is not valid in the database at the moment of the claim: it starts
    /// nothing (the others may already believe it dead).
    case fenced(node: String, epoch: Int64)
    /// The node holds no lease at all now: it has not joined yet, or its lease ran short and
    /// it fenced itself.
    case noLease

    public var description: String {
        switch self {
        case .fenced(let node, let epoch): "node \(node) (epoch \(epoch)) holds no valid lease; it starts nothing"
        case .noLease: "this node holds no lease now (not joined yet, or fenced until it joins again); it starts nothing"
        }
    }
}
