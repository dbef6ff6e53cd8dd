import Foundation
import Logging
import PostgresNIO

/// What a start needs to know of a due source's schedule to compute its next occurrence.
public struct DueSchedule: Sendable, Equatable {
    public var sourceID: Int64
    /// The occurrence that is due (`next_fire_at`).
    public var occurrence: Date
    public var frequencyMinutes: Int?
    public var anchorTime: Date?
    public var cronExpression: String?
    public var cronTimeZone: String?
}

/// The outcome of one due source in a claim.
public enum ClusterClaim: Sendable, Equatable {
    /// A job row was inserted, running on the claiming node.
    case started(sourceID: Int64, jobID: Int64, jobName: String, occurrence: Date, nextFire: Date?)
    /// A job of the source was still running: the occurrence is skipped, the due time moves on.
    case skippedOverlap(sourceID: Int64, occurrence: Date, nextFire: Date?)
}

public enum ClusterStartError: Error, Equatable, CustomStringConvertible {
    /// The node's lease is not valid in the database at the moment of the claim: it starts
    /// nothing (the others may already believe it dead).
    case fenced(node: String, epoch: Int64)

    public var description: String {
        switch self {
        case .fenced(let node, let epoch): "node \(node) (epoch \(epoch)) holds no valid lease; it starts nothing"
        }
    }
}

/// Scheduled starts in the shared database: exactly one start per occurrence across nodes.
///
/// One transaction per claim: it takes the claiming node's row `FOR SHARE` and requires its
/// lease to be valid (a node the cluster may believe dead starts nothing, and the reaper, which
/// locks that row to interrupt a dead node's jobs, waits for a claim in progress), then locks
/// the due sources `FOR UPDATE SKIP LOCKED` (a source another node is claiming is left to it,
/// not waited for), and re-reads the pause columns under that lock. A pause is an UPDATE of the
/// same row: it waits for a claim that locked the row first (that job started before the pause
/// was acknowledged), and a claim after it sees `paused_at`. `jobs_one_per_attempt` backs it up.
public struct ClusterStarts: Sendable {
    let database: ClusterDatabase

    public init(database: ClusterDatabase) {
        self.database = database
    }

    /// Claims up to `limit` due sources for `node` at `epoch`. `nextFire` computes a source's
    /// next occurrence after the claimed one, given the database's `now()` (the schedule rules
    /// live in the core); `jobName` names a job of a source at `now()`.
    public func claimDue(
        node: String, epoch: Int64, limit: Int,
        jobName: @escaping @Sendable (_ sourceID: Int64, _ now: Date) -> String,
        nextFire: @escaping @Sendable (_ schedule: DueSchedule, _ now: Date) -> Date?
    ) async throws -> [ClusterClaim] {
        let logger = database.logger
        return try await database.transaction { connection -> [ClusterClaim] in
            var now: Date?
            for try await stamp in try await connection.query(
                """
                SELECT now() FROM nodes
                WHERE name = \(node) AND epoch = \(epoch) AND left_at IS NULL AND lease_expires_at > now()
                FOR SHARE
                """, logger: logger
            ).decode(Date.self) {
                now = stamp
            }
            guard let now else { throw ClusterStartError.fenced(node: node, epoch: epoch) }

            var due: [(DueSchedule, running: Bool)] = []
            let rows = try await connection.query(
                """
                SELECT s.id, s.next_fire_at, s.frequency_in_minutes, s.anchor_time, s.cron_expression, s.cron_timezone,
                       EXISTS (SELECT 1 FROM jobs j WHERE j.source_id = s.id AND j.status = 'running')
                FROM sources s
                WHERE s.next_fire_at <= now() AND s.paused_at IS NULL AND s.system_paused_at IS NULL AND s.deleted_at IS NULL
                ORDER BY s.next_fire_at, s.id
                LIMIT \(limit)
                FOR UPDATE OF s SKIP LOCKED
                """, logger: logger)
            for try await (id, occurrence, frequency, anchor, cron, zone, running) in rows.decode(
                (Int64, Date, Int?, Date?, String?, String?, Bool).self)
            {
                due.append(
                    (
                        DueSchedule(
                            sourceID: id, occurrence: occurrence, frequencyMinutes: frequency, anchorTime: anchor,
                            cronExpression: cron, cronTimeZone: zone), running
                    ))
            }

            var claims: [ClusterClaim] = []
            for (schedule, running) in due {
                let next = nextFire(schedule, now)
                try await connection.query(
                    "UPDATE sources SET next_fire_at = \(next), updated_at = now() WHERE id = \(schedule.sourceID)",
                    logger: logger)
                if running {
                    claims.append(.skippedOverlap(sourceID: schedule.sourceID, occurrence: schedule.occurrence, nextFire: next))
                    continue
                }
                let name = jobName(schedule.sourceID, now)
                var jobID: Int64?
                for try await id in try await connection.query(
                    """
                    INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, status, node, node_epoch)
                    VALUES (\(name), \(schedule.sourceID), 'scheduled', \(schedule.occurrence), 'running', \(node), \(epoch))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self) {
                    jobID = id
                }
                guard let jobID else { throw ClusterError.unexpected("a job insert returned no id") }
                claims.append(
                    .started(sourceID: schedule.sourceID, jobID: jobID, jobName: name, occurrence: schedule.occurrence, nextFire: next))
            }
            return claims
        }
    }
}
