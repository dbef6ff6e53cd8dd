import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// The dispatcher's calls are async: it runs on the cooperative pool beside the API's handlers,
/// which must not lose a thread to a read, a commit's fsync or a lock held by `sqlite3`.
extension Store {
    /// Makes the `webhooks` table say what the configuration says, in one transaction. Pending
    /// deliveries of a webhook that is no longer configured are abandoned (they stay visible).
    public func configureWebhooks(_ webhooks: [WebhookSubscription], now: Date) throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM webhooks")
            for webhook in webhooks {
                try db.execute(
                    sql: "INSERT INTO webhooks (name, url, events) VALUES (?, ?, ?)",
                    arguments: [webhook.name, webhook.url, webhook.events.map(\.rawValue).joined(separator: ",")])
            }
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET next_attempt_at = NULL, abandoned_at = ?,
                        last_error = 'the webhook is no longer configured'
                    WHERE next_attempt_at IS NOT NULL AND webhook NOT IN (SELECT name FROM webhooks)
                    """,
                arguments: [StoredTime.millis(now)])
        }
    }

    /// Pending deliveries due at `now`, oldest first.
    public func dueDeliveries(now: Date, limit: Int) async throws -> [WebhookDelivery] {
        try await writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.webhook, d.event, d.created_at, d.attempts, d.reason, d.job_id,
                           s.id AS sid, s.name AS sname, s.display_name AS sdisplay
                    FROM webhook_deliveries d JOIN sources s ON s.id = d.source_id
                    WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ?
                    ORDER BY d.next_attempt_at, d.id LIMIT ?
                    """,
                arguments: [StoredTime.millis(now), limit])
            return try rows.map { row in
                guard let event = WebhookEvent(rawValue: row["event"]) else { throw StoreError.corruptValue("webhook event") }
                let jobID: Int64? = row["job_id"]
                return WebhookDelivery(
                    id: row["id"], webhook: row["webhook"], event: event, createdAt: try StoredTime.required(row["created_at"]),
                    attempts: row["attempts"], reason: row["reason"], source: (row["sid"], row["sname"], row["sdisplay"]),
                    job: try jobID.flatMap { try Self.fetchJob(db, id: $0) })
            }
        }
    }

    /// When the next pending delivery is due, if any.
    public func nextDeliveryDue() async throws -> Date? {
        try await writer.read { db in
            try StoredTime.optional(
                String.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL"))
        }
    }

    /// Records attempts, many per transaction.
    public func recordDeliveryAttempts(_ attempts: [(id: Int64, attempt: DeliveryAttempt)]) async throws {
        guard !attempts.isEmpty else { return }
        try await writer.write { db in
            for (id, attempt) in attempts {
                switch attempt {
                case .delivered(let status, let at):
                    try db.execute(
                        sql: """
                            UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = ?, next_attempt_at = NULL,
                                last_status = ?, last_error = NULL WHERE id = ? AND next_attempt_at IS NOT NULL
                            """,
                        arguments: [StoredTime.millis(at), status, id])
                case .failed(let status, let error, _, let retryAt):
                    try db.execute(
                        sql: """
                            UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?,
                                last_error = ? WHERE id = ? AND next_attempt_at IS NOT NULL
                            """,
                        arguments: [StoredTime.millis(retryAt), status, error, id])
                case .abandoned(let status, let error, let at):
                    try db.execute(
                        sql: """
                            UPDATE webhook_deliveries SET attempts = attempts + 1, abandoned_at = ?, next_attempt_at = NULL,
                                last_status = ?, last_error = ? WHERE id = ? AND next_attempt_at IS NOT NULL
                            """,
                        arguments: [StoredTime.millis(at), status, error, id])
                }
            }
        }
    }

    /// Deletes delivered and abandoned deliveries older than `before`, in one small batch;
    /// returns how many.
    @discardableResult
    public func pruneDeliveries(before: Date, limit: Int = 1000) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: """
                    DELETE FROM webhook_deliveries WHERE id IN (
                        SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NULL AND created_at < ? LIMIT ?)
                    """,
                arguments: [StoredTime.millis(before), limit])
            return db.changesCount
        }
    }
}
