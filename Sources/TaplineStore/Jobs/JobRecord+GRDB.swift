import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// How SQLite rows of `jobs` become job records (times are ISO 8601 text).
extension JobRecord: FetchableRecord {
    public init(row: Row) throws {
        guard let trigger = JobTrigger(rawValue: row["trigger"]), let status = JobStatus(rawValue: row["status"]) else {
            throw StoreError.corruptValue("job trigger or status")
        }
        self.init(
            id: row["id"], jobName: row["job_name"], sourceID: row["source_id"], trigger: trigger, status: status,
            startedAt: try StoredTime.required(row["started_at"]))
        scheduledFor = try StoredTime.optional(row["scheduled_for"])
        attempt = row["attempt"] ?? 1
        completedAt = try StoredTime.optional(row["completed_at"])
        discoveryExitStatus = row["discovery_exit_status"]
        discoveryDescription = row["discovery_description"]
        tapExitStatus = row["tap_exit_status"]
        tapDescription = row["tap_description"]
        targetExitStatus = row["target_exit_status"]
        targetDescription = row["target_description"]
        processGroup = row["process_group"]
        spawnedAt = try StoredTime.optional(row["spawned_at"])
        logPath = row["log_path"]
        streamRecords = (row["stream_records"] as String?).flatMap { try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8)) }
    }
}
