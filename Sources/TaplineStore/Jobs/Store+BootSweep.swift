import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
    /// The boot sweep: every job still `running` from a previous life ends as `interrupted`
    /// (and every connection check as failed).
    /// Returns them (with their process groups) so the caller can end orphaned processes.
    public func interruptRunningJobs(now: Date) throws -> [JobRecord] {
        try writer.write { db in
            let running = try JobRecord.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE status = 'running'")
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'interrupted', completed_at = ?,
                        discovery_description = 'Interrupted', tap_description = 'Interrupted',
                        target_description = 'Interrupted'
                    WHERE status = 'running'
                    """,
                arguments: [StoredTime.millis(now)])
            try db.execute(
                sql: """
                    UPDATE connection_checks SET status = 'failed', completed_at = ?, discovery_error_message = 'Interrupted'
                    WHERE status = 'running'
                    """,
                arguments: [StoredTime.millis(now)])
            return running
        }
    }
}
