import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// The console's reads in SQLite: one statement for the whole list, read off the writer (a WAL
/// reader), so a page of the console never waits behind a pause.
extension Store: ConsoleStore {
    public func sourceOverviews() async throws -> [SourceOverview] {
        try await writer.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
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
                    LEFT JOIN jobs l ON l.id = (
                        SELECT max(id) FROM jobs WHERE source_id = s.id AND status <> 'running')
                    WHERE s.deleted_at IS NULL
                    ORDER BY s.id
                    """)
            var overviews: [SourceOverview] = []
            while let row = try rows.next() {
                var overview = SourceOverview(
                    id: row["id"], name: row["name"], displayName: row["display_name"], type: row["type"],
                    createdAt: try StoredTime.required(row["created_at"]))
                overview.pausedAt = try StoredTime.optional(row["paused_at"])
                overview.systemPausedAt = try StoredTime.optional(row["system_paused_at"])
                overview.systemPauseReason = row["system_pause_reason"]
                overview.nextFireAt = try StoredTime.optional(row["next_fire_at"])
                overview.frequencyMinutes = row["frequency_in_minutes"]
                overview.anchorTime = try StoredTime.optional(row["anchor_time"])
                overview.cronExpression = row["cron_expression"]
                overview.cronTimeZone = row["cron_timezone"]
                if let name: String = row["running_name"] {
                    overview.running = .init(name: name, status: .running, startedAt: try StoredTime.required(row["running_started"]))
                }
                if let name: String = row["last_name"] {
                    guard let status = JobStatus(rawValue: row["last_status"]) else { throw StoreError.corruptValue("job status") }
                    overview.last = .init(
                        name: name, status: status, startedAt: try StoredTime.required(row["last_started"]),
                        completedAt: try StoredTime.optional(row["last_completed"]), discoveryExitStatus: row["last_discovery"],
                        tapExitStatus: row["last_tap"], targetExitStatus: row["last_target"])
                }
                overview.lastSuccessAt = try StoredTime.optional(row["last_success"])
                overview.lastFailureAt = try StoredTime.optional(row["last_failure"])
                overviews.append(overview)
            }
            return overviews
        }
    }

    public func jobActivity() async throws -> JobActivity {
        try await writer.read { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM jobs") ?? 0
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(id), 0) AS s FROM jobs WHERE status = 'running'")
            return JobActivity(newestJobID: newest, runningCount: row?["n"] ?? 0, runningIDSum: row?["s"] ?? 0)
        }
    }

    public func recentDeliveries(limit: Int) async throws -> [DeliverySummary] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, webhook, event, source_id, created_at, attempts, delivered_at, abandoned_at, last_status, last_error
                    FROM webhook_deliveries ORDER BY id DESC LIMIT ?
                    """, arguments: [limit]
            ).map { row in
                var delivery = DeliverySummary(
                    id: row["id"], webhook: row["webhook"], event: row["event"], sourceID: row["source_id"],
                    createdAt: try StoredTime.required(row["created_at"]), attempts: row["attempts"])
                delivery.deliveredAt = try StoredTime.optional(row["delivered_at"])
                delivery.abandonedAt = try StoredTime.optional(row["abandoned_at"])
                delivery.lastStatus = row["last_status"]
                delivery.lastError = row["last_error"]
                return delivery
            }
        }
    }

    public func recordRequest(sourceID: Int64, kind: SourceEvent.Kind, actor: Actor, reason: String?, detail: String?, now: Date)
        async throws
    {
        try await writer.write { db in
            try Self.appendEvent(db, sourceID: sourceID, kind: kind, actor: actor, at: now, reason: reason, detail: detail)
        }
    }
}
