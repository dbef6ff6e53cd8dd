import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// How SQLite rows become source records (credentials opened by `tapline_open` in the query).
extension SourceRecord: FetchableRecord {
    static let columns = """
        id, name, display_name, type, properties, tapline_open(credentials) AS credentials, frequency_in_minutes, anchor_time,
        cron_expression, cron_timezone, destination_id, paused_at, system_paused_at, system_pause_reason, deleted_at,
        next_fire_at, retry_attempt, retry_occurrence, retry_resume_at, check_job_name, created_at, updated_at,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id) AS discovered,
        EXISTS (SELECT 1 FROM source_streams ss WHERE ss.source_id = sources.id AND ss.selected = 1) AS streams_selected
        """

    public init(row: Row) throws {
        self.init(
            id: row["id"], name: row["name"], displayName: row["display_name"], type: row["type"],
            createdAt: try StoredTime.required(row["created_at"]), updatedAt: try StoredTime.required(row["updated_at"]))
        properties = try StoredJSON.decodeStrings(row["properties"])
        credentials = try StoredJSON.decodeStrings(row["credentials"])
        frequencyMinutes = row["frequency_in_minutes"]
        anchorTime = try StoredTime.optional(row["anchor_time"])
        cronExpression = row["cron_expression"]
        cronTimeZone = row["cron_timezone"]
        destinationID = row["destination_id"]
        pausedAt = try StoredTime.optional(row["paused_at"])
        systemPausedAt = try StoredTime.optional(row["system_paused_at"])
        systemPauseReason = row["system_pause_reason"]
        deletedAt = try StoredTime.optional(row["deleted_at"])
        nextFireAt = try StoredTime.optional(row["next_fire_at"])
        if let attempt = row["retry_attempt"] as Int?, let occurrence = try StoredTime.optional(row["retry_occurrence"]) {
            pendingRetry = PendingRetry(
                attempt: attempt, occurrence: occurrence, resumeAt: try StoredTime.optional(row["retry_resume_at"]))
        }
        checkJobName = row["check_job_name"]
        discovered = row["discovered"] ?? false
        streamsSelected = row["streams_selected"] ?? false
    }
}
