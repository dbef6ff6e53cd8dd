import Foundation
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The webhook outbox on PostgreSQL (schema v10): filled by triggers in the transaction of the
/// event, as in SQLite, and sent by whichever node claims a delivery first. A claim is taken
/// with `SKIP LOCKED` and lasts `claimDeliveries(as:for:)`'s seconds, longer than an attempt
/// and its recording take, so two live nodes never send one delivery at once; the claim of a
/// node that died runs out and another node sends it (at least once, as on one node).
extension ClusterStore: WebhookOutbox {
    /// Names the node that claims deliveries through this store and how long a claim holds.
    public func claimDeliveries(as node: String, for seconds: Double) {
        deliveryClaims.withLock { $0 = (node, seconds) }
    }

    public func configureWebhooks(_ webhooks: [WebhookSubscription], now: Date) async throws {
        let logger = database.logger
        try await database.transaction { connection in
            // Nodes starting together each write the table: one after the other, not a
            // duplicate key for the later one.
            try await connection.query("LOCK TABLE webhooks IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            try await connection.query("DELETE FROM webhooks", logger: logger)
            for webhook in webhooks {
                try await connection.query(
                    "INSERT INTO webhooks (name, url, events) VALUES (\(webhook.name), \(webhook.url), \(webhook.events.map(\.rawValue).joined(separator: ",")))",
                    logger: logger)
            }
            try await connection.query(
                """
                UPDATE webhook_deliveries SET next_attempt_at = NULL, abandoned_at = \(ClusterTime.millis(now)),
                    last_error = 'the webhook is no longer configured', claimed_by = NULL, claimed_until = NULL
                WHERE next_attempt_at IS NOT NULL AND webhook NOT IN (SELECT name FROM webhooks)
                """, logger: logger)
        }
    }

    public func dueDeliveries(now: Date, limit: Int) async throws -> [WebhookDelivery] {
        let (node, seconds) = deliveryClaims.withLock { $0 }
        let logger = database.logger
        return try await database.transaction { connection in
            var claimed:
                [(
                    id: Int64, webhook: String, event: String, createdAt: Date, attempts: Int, reason: String?, jobID: Int64?,
                    sourceID: Int64, due: Date
                )] = []
            for try await row in try await connection.query(
                """
                WITH due AS (
                    SELECT id FROM webhook_deliveries
                    WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= \(ClusterTime.millis(now))
                      AND (claimed_until IS NULL OR claimed_until < now() OR claimed_by = \(node))
                    ORDER BY next_attempt_at, id LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                UPDATE webhook_deliveries d SET claimed_by = \(node), claimed_until = now() + make_interval(secs => \(seconds))
                FROM due WHERE d.id = due.id
                RETURNING d.id, d.webhook, d.event, d.created_at, d.attempts, d.reason, d.job_id, d.source_id, d.next_attempt_at
                """, logger: logger
            ).decode((Int64, String, String, Date, Int, String?, Int64?, Int64, Date).self) {
                claimed.append(row)
            }
            claimed.sort { ($0.due, $0.id) < ($1.due, $1.id) }
            guard !claimed.isEmpty else { return [] }
            var sources: [Int64: (id: Int64, name: String, displayName: String)] = [:]
            for try await (id, name, display) in try await connection.query(
                "SELECT id, name, display_name FROM sources WHERE id = ANY(\(Array(Set(claimed.map(\.sourceID)))))", logger: logger
            ).decode((Int64, String, String).self) {
                sources[id] = (id, name, display)
            }
            let jobIDs = Array(Set(claimed.compactMap(\.jobID)))
            var jobs: [Int64: JobRecord] = [:]
            if !jobIDs.isEmpty {
                for job in try await Self.jobs(
                    from: try await connection.query(
                        "SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE id = ANY(\(jobIDs))", logger: logger))
                {
                    jobs[job.id] = job
                }
            }
            return try claimed.map { row in
                guard let event = WebhookEvent(rawValue: row.event), let source = sources[row.sourceID] else {
                    throw StoreError.corruptValue("webhook delivery \(row.id)")
                }
                return WebhookDelivery(
                    id: row.id, webhook: row.webhook, event: event, createdAt: ClusterTime.read(row.createdAt), attempts: row.attempts,
                    reason: row.reason, source: source, job: row.jobID.flatMap { jobs[$0] })
            }
        }
    }

    /// When this node should look again: the next pending delivery's time, or for one another
    /// node holds a claim on, when that claim runs out.
    public func nextDeliveryDue() async throws -> Date? {
        let node = deliveryClaims.withLock { $0.node }
        return try await database.query(
            """
            SELECT min(CASE WHEN claimed_by IS NOT NULL AND claimed_by <> \(node) AND claimed_until > now()
                            THEN greatest(claimed_until, next_attempt_at) ELSE next_attempt_at END)
            FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL
            """
        ) { rows in
            for try await due in rows.decode(Date?.self) { return due.map(ClusterTime.read) }
            return nil
        }
    }

    public func recordDeliveryAttempts(_ attempts: [(id: Int64, attempt: DeliveryAttempt)]) async throws {
        guard !attempts.isEmpty else { return }
        let logger = database.logger
        try await database.transaction { connection in
            for (id, attempt) in attempts.sorted(by: { $0.id < $1.id }) {
                switch attempt {
                case .delivered(let status, let at):
                    try await connection.query(
                        """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = \(ClusterTime.millis(at)), next_attempt_at = NULL,
                            last_status = \(status), last_error = NULL, claimed_by = NULL, claimed_until = NULL
                        WHERE id = \(id) AND next_attempt_at IS NOT NULL
                        """, logger: logger)
                case .failed(let status, let error, _, let retryAt):
                    try await connection.query(
                        """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = \(ClusterTime.millis(retryAt)),
                            last_status = \(status), last_error = \(error), claimed_by = NULL, claimed_until = NULL
                        WHERE id = \(id) AND next_attempt_at IS NOT NULL
                        """, logger: logger)
                case .abandoned(let status, let error, let at):
                    try await connection.query(
                        """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, abandoned_at = \(ClusterTime.millis(at)), next_attempt_at = NULL,
                            last_status = \(status), last_error = \(error), claimed_by = NULL, claimed_until = NULL
                        WHERE id = \(id) AND next_attempt_at IS NOT NULL
                        """, logger: logger)
                }
            }
        }
    }

    @discardableResult
    public func pruneDeliveries(before: Date, limit: Int = 1000) async throws -> Int {
        try await database.query(
            """
            WITH gone AS (
                DELETE FROM webhook_deliveries WHERE id IN (
                    SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NULL AND created_at < \(ClusterTime.millis(before))
                    LIMIT \(limit))
                RETURNING 1)
            SELECT count(*) FROM gone
            """
        ) { rows in
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    public func onDeliveriesQueued(_ callback: @escaping @Sendable () -> Void) {
        feed.setDeliveriesHandler(callback)
    }
}
