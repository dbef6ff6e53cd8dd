import Foundation
import PostgresNIO
import TaplineStoreContract

/// Rows of the cluster's `jobs` and `destinations`, read into the records the rest of tapline uses.
extension ClusterStore {
    static let jobColumns = """
        id, job_name, source_id, trigger, scheduled_for, attempt, status, started_at, completed_at, discovery_exit_status,
        discovery_description, tap_exit_status, tap_description, target_exit_status, target_description,
        process_group, spawned_at, log_path, stream_records::text
        """

    static func job(from row: PostgresRow) throws -> JobRecord {
        let cells = row.makeRandomAccess()
        guard let trigger = JobTrigger(rawValue: try cells[3].decode(String.self)),
            let status = JobStatus(rawValue: try cells[6].decode(String.self))
        else { throw StoreError.corruptValue("job trigger or status") }
        var job = JobRecord(
            id: try cells[0].decode(Int64.self), jobName: try cells[1].decode(String.self),
            sourceID: try cells[2].decode(Int64.self), trigger: trigger, status: status, startedAt: ClusterTime.read(try cells[7].decode(Date.self)))
        job.scheduledFor = try cells[4].decode(Date?.self).map(ClusterTime.read)
        job.attempt = try cells[5].decode(Int.self)
        job.completedAt = try cells[8].decode(Date?.self).map(ClusterTime.read)
        job.discoveryExitStatus = try cells[9].decode(Int?.self)
        job.discoveryDescription = try cells[10].decode(String?.self)
        job.tapExitStatus = try cells[11].decode(Int?.self)
        job.tapDescription = try cells[12].decode(String?.self)
        job.targetExitStatus = try cells[13].decode(Int?.self)
        job.targetDescription = try cells[14].decode(String?.self)
        job.processGroup = try cells[15].decode(Int32?.self)
        job.spawnedAt = try cells[16].decode(Date?.self).map(ClusterTime.read)
        job.logPath = try cells[17].decode(String?.self)
        job.streamRecords = try cells[18].decode(String?.self).flatMap {
            try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8))
        }
        return job
    }

    static func jobs(from rows: PostgresRowSequence) async throws -> [JobRecord] {
        var jobs: [JobRecord] = []
        for try await row in rows { jobs.append(try job(from: row)) }
        return jobs
    }

    static let destinationColumns = "id, type, properties::text, credentials, created_at, updated_at, deleted_at"

    func destinations(from rows: PostgresRowSequence) async throws -> [DestinationRecord] {
        var records: [DestinationRecord] = []
        for try await (id, type, properties, credentials, created, updated, deleted) in rows.decode(
            (Int64, String, String, String, Date, Date, Date?).self)
        {
            records.append(
                DestinationRecord(
                    id: id, type: type, properties: try StoredJSON.decodeStrings(properties, what: "destination properties"),
                    credentials: try StoredJSON.decodeStrings(try self.rows.open(credentials), what: "destination credentials"),
                    createdAt: ClusterTime.read(created), updatedAt: ClusterTime.read(updated),
                    deletedAt: deleted.map(ClusterTime.read)))
        }
        return records
    }
}
