import Foundation
import TaplineCore

extension SourceOverview {
    /// The console's list in one statement, the same text on both backends (standard SQL: two
    /// joins for the running and the last ended job, two correlated maxima for the last success
    /// and failure), read off the writer.
    package static let query = """
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
        """

    /// One row of `query`.
    package init(stored row: some StoredRow) throws {
        self.init(
            id: try row.int64(required: "id"), name: try row.string(required: "name"),
            displayName: try row.string(required: "display_name"), type: try row.string(required: "type"),
            createdAt: try row.time(required: "created_at"))
        pausedAt = try row.time("paused_at")
        systemPausedAt = try row.time("system_paused_at")
        systemPauseReason = try row.string("system_pause_reason")
        nextFireAt = try row.time("next_fire_at")
        frequencyMinutes = try row.int("frequency_in_minutes")
        anchorTime = try row.time("anchor_time")
        cronExpression = try row.string("cron_expression")
        cronTimeZone = try row.string("cron_timezone")
        if let name = try row.string("running_name") {
            running = Job(name: name, status: .running, startedAt: try row.time(required: "running_started"))
        }
        if let name = try row.string("last_name") {
            guard let status = JobStatus(rawValue: try row.string(required: "last_status")) else {
                throw StoreError.corruptValue("job status")
            }
            last = Job(
                name: name, status: status, startedAt: try row.time(required: "last_started"),
                completedAt: try row.time("last_completed"), discoveryExitStatus: try row.int("last_discovery"),
                tapExitStatus: try row.int("last_tap"), targetExitStatus: try row.int("last_target"))
        }
        lastSuccessAt = try row.time("last_success")
        lastFailureAt = try row.time("last_failure")
    }
}

extension DeliverySummary {
    /// The newest webhook deliveries first; each backend appends its own `LIMIT`.
    package static let query = """
        SELECT id, webhook, event, source_id, created_at, attempts, delivered_at, abandoned_at, last_status, last_error
        FROM webhook_deliveries ORDER BY id DESC
        """

    /// One row of `query`.
    package init(stored row: some StoredRow) throws {
        self.init(
            id: try row.int64(required: "id"), webhook: try row.string(required: "webhook"),
            event: try row.string(required: "event"), sourceID: try row.int64(required: "source_id"),
            createdAt: try row.time(required: "created_at"), attempts: try row.int(required: "attempts"))
        deliveredAt = try row.time("delivered_at")
        abandonedAt = try row.time("abandoned_at")
        lastStatus = try row.int("last_status")
        lastError = try row.string("last_error")
    }
}
