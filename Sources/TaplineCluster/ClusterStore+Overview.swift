import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The console's reads in PostgreSQL, with SQLite's columns and order; each runs under the
/// transaction's deadline, so a stuck connection cannot hold a console page forever.
extension ClusterStore: ConsoleStore {
    public func sourceOverviews() async throws -> [SourceOverview] {
        let logger = database.logger
        return try await database.transaction { connection in
            var overviews: [SourceOverview] = []
            for try await row in try await connection.query(
                """
                SELECT s.id, s.name, s.display_name, s.type, s.paused_at, s.system_paused_at, s.system_pause_reason,
                    s.next_fire_at, s.frequency_in_minutes, s.anchor_time, s.cron_expression, s.cron_timezone, s.created_at,
                    r.job_name AS running_name, r.started_at AS running_started,
                    l.job_name AS last_name, l.status AS last_status, l.started_at AS last_started,
                    l.completed_at AS last_completed, l.discovery_exit_status AS last_discovery,
                    l.tap_exit_status AS last_tap, l.target_exit_status AS last_target,
                    (SELECT max(completed_at) FROM jobs WHERE source_id = s.id AND status = 'succeeded') AS last_success,
                    (SELECT max(completed_at) FROM jobs WHERE source_id = s.id AND status = 'failed') AS last_failure
                FROM sources s
                LEFT JOIN jobs r ON r.source_id = s.id AND r.status = 'running'
                LEFT JOIN jobs l ON l.id = (SELECT max(id) FROM jobs WHERE source_id = s.id AND status <> 'running')
                WHERE s.deleted_at IS NULL
                ORDER BY s.id
                """, logger: logger)
            {
                let cells = row.makeRandomAccess()
                func time(_ name: String) throws -> Date? { try cells[name].decode(Date?.self).map(ClusterTime.read) }
                var overview = SourceOverview(
                    id: try cells["id"].decode(Int64.self), name: try cells["name"].decode(String.self),
                    displayName: try cells["display_name"].decode(String.self), type: try cells["type"].decode(String.self),
                    createdAt: ClusterTime.read(try cells["created_at"].decode(Date.self)))
                overview.pausedAt = try time("paused_at")
                overview.systemPausedAt = try time("system_paused_at")
                overview.systemPauseReason = try cells["system_pause_reason"].decode(String?.self)
                overview.nextFireAt = try time("next_fire_at")
                overview.frequencyMinutes = try cells["frequency_in_minutes"].decode(Int?.self)
                overview.anchorTime = try time("anchor_time")
                overview.cronExpression = try cells["cron_expression"].decode(String?.self)
                overview.cronTimeZone = try cells["cron_timezone"].decode(String?.self)
                if let name = try cells["running_name"].decode(String?.self), let started = try time("running_started") {
                    overview.running = .init(name: name, status: .running, startedAt: started)
                }
                if let name = try cells["last_name"].decode(String?.self), let started = try time("last_started") {
                    guard let status = JobStatus(rawValue: try cells["last_status"].decode(String.self)) else {
                        throw StoreError.corruptValue("job status")
                    }
                    overview.last = .init(
                        name: name, status: status, startedAt: started, completedAt: try time("last_completed"),
                        discoveryExitStatus: try cells["last_discovery"].decode(Int?.self),
                        tapExitStatus: try cells["last_tap"].decode(Int?.self),
                        targetExitStatus: try cells["last_target"].decode(Int?.self))
                }
                overview.lastSuccessAt = try time("last_success")
                overview.lastFailureAt = try time("last_failure")
                overviews.append(overview)
            }
            return overviews
        }
    }

    public func jobActivity() async throws -> JobActivity {
        let logger = database.logger
        return try await database.transaction { connection in
            var activity = JobActivity(newestJobID: 0, runningCount: 0, runningIDSum: 0)
            for try await (newest, count, sum) in try await connection.query(
                """
                SELECT (SELECT coalesce(max(id), 0) FROM jobs), count(*)::bigint, coalesce(sum(id), 0)::bigint
                FROM jobs WHERE status = 'running'
                """, logger: logger
            ).decode((Int64, Int64, Int64).self) {
                activity = JobActivity(newestJobID: newest, runningCount: Int(count), runningIDSum: sum)
            }
            return activity
        }
    }

    public func recentDeliveries(limit: Int) async throws -> [DeliverySummary] {
        let logger = database.logger
        return try await database.transaction { connection in
            var deliveries: [DeliverySummary] = []
            for try await row in try await connection.query(
                """
                SELECT id, webhook, event, source_id, created_at, attempts, delivered_at, abandoned_at, last_status, last_error
                FROM webhook_deliveries ORDER BY id DESC LIMIT \(limit)
                """, logger: logger)
            {
                let cells = row.makeRandomAccess()
                var delivery = DeliverySummary(
                    id: try cells["id"].decode(Int64.self), webhook: try cells["webhook"].decode(String.self),
                    event: try cells["event"].decode(String.self), sourceID: try cells["source_id"].decode(Int64.self),
                    createdAt: ClusterTime.read(try cells["created_at"].decode(Date.self)),
                    attempts: try cells["attempts"].decode(Int.self))
                delivery.deliveredAt = try cells["delivered_at"].decode(Date?.self).map(ClusterTime.read)
                delivery.abandonedAt = try cells["abandoned_at"].decode(Date?.self).map(ClusterTime.read)
                delivery.lastStatus = try cells["last_status"].decode(Int?.self)
                delivery.lastError = try cells["last_error"].decode(String?.self)
                deliveries.append(delivery)
            }
            return deliveries
        }
    }

    public func recordRequest(sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, reason: String?, detail: String?, now: Date)
        async throws
    {
        let logger = database.logger
        try await database.transaction { connection in
            try await Self.appendEvent(
                connection, logger: logger, sourceID: sourceID, kind: kind, actor: actor, at: now, reason: reason, detail: detail)
        }
    }
}
