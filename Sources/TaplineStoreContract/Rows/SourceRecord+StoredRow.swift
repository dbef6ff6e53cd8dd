import Foundation
import TaplineCore

extension SourceRecord {
    /// A source from a row of `sources` (plus the `discovered` and `streams_selected` flags), by
    /// column name. `open` turns the stored `credentials` text into plain JSON: SQLite opens them
    /// in its query (`tapline_open`), PostgreSQL after the read.
    package init(stored row: some StoredRow, open: (String) throws -> String = { $0 }) throws {
        self.init(
            id: try row.int64(required: "id"), name: try row.string(required: "name"),
            displayName: try row.string(required: "display_name"), type: try row.string(required: "type"),
            createdAt: try row.time(required: "created_at"), updatedAt: try row.time(required: "updated_at"))
        properties = try StoredJSON.decodeStrings(try row.string(required: "properties"), what: "properties")
        credentials = try StoredJSON.decodeStrings(try open(try row.string(required: "credentials")), what: "credentials")
        frequencyMinutes = try row.int("frequency_in_minutes")
        anchorTime = try row.time("anchor_time")
        cronExpression = try row.string("cron_expression")
        cronTimeZone = try row.string("cron_timezone")
        destinationID = try row.int64("destination_id")
        pausedAt = try row.time("paused_at")
        systemPausedAt = try row.time("system_paused_at")
        systemPauseReason = try row.string("system_pause_reason")
        deletedAt = try row.time("deleted_at")
        nextFireAt = try row.time("next_fire_at")
        if let attempt = try row.int("retry_attempt"), let occurrence = try row.time("retry_occurrence") {
            pendingRetry = PendingRetry(attempt: attempt, occurrence: occurrence, resumeAt: try row.time("retry_resume_at"))
        }
        checkJobName = try row.string("check_job_name")
        discovered = try row.bool("discovered") ?? false
        streamsSelected = try row.bool("streams_selected") ?? false
    }
}
