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
        try self.init(stored: row.stored)
    }
}
