import Foundation
import TaplineCore

extension JobRecord {
    /// A job from a row of `jobs` with the columns of `JobRecord.storedColumns` (by name; each
    /// backend's query may compute a column its own way).
    package init(stored row: some StoredRow) throws {
        guard let trigger = JobTrigger(rawValue: try row.string(required: "trigger")),
            let status = JobStatus(rawValue: try row.string(required: "status"))
        else { throw StoreError.corruptValue("job trigger or status") }
        self.init(
            id: try row.int64(required: "id"), jobName: try row.string(required: "job_name"),
            sourceID: try row.int64(required: "source_id"), trigger: trigger, status: status,
            startedAt: try row.time(required: "started_at"))
        scheduledFor = try row.time("scheduled_for")
        attempt = try row.int("attempt") ?? 1
        completedAt = try row.time("completed_at")
        discoveryExitStatus = try row.int("discovery_exit_status")
        discoveryDescription = try row.string("discovery_description")
        tapExitStatus = try row.int("tap_exit_status")
        tapDescription = try row.string("tap_description")
        targetExitStatus = try row.int("target_exit_status")
        targetDescription = try row.string("target_description")
        processGroup = try row.int("process_group").map(Int32.init)
        spawnedAt = try row.time("spawned_at")
        logPath = try row.string("log_path")
        streamRecords = try row.string("stream_records").flatMap {
            try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8))
        }
    }
}
