import Foundation

/// The durable outbox of webhook deliveries, whichever database holds it. The deliveries are
/// written by the schema itself (triggers) in the transaction that ended a job or changed a
/// system pause, so a committed event is never without them; the dispatcher reads what is due,
/// sends it and records each attempt. SQLite's `Store` serves one node; `ClusterStore` lets
/// every node of a cluster send, each delivery claimed by one node at a time.
public protocol WebhookOutbox: AnyObject, Sendable {
    /// Makes the store's webhooks what the configuration says; pending deliveries of a webhook no
    /// longer configured are abandoned.
    func configureWebhooks(_ webhooks: [WebhookSubscription], now: Date) async throws
    /// Pending deliveries due at `now`, oldest first (on a cluster: claimed for this node).
    func dueDeliveries(now: Date, limit: Int) async throws -> [WebhookDelivery]
    /// When the next pending delivery is due, if any.
    func nextDeliveryDue() async throws -> Date?
    /// Records attempts, many per transaction.
    func recordDeliveryAttempts(_ attempts: [(id: Int64, attempt: DeliveryAttempt)]) async throws
    /// Deletes delivered and abandoned deliveries older than `before`, one small batch.
    @discardableResult
    func pruneDeliveries(before: Date, limit: Int) async throws -> Int
    /// Calls `callback` after a commit that queued deliveries. SQLite hears its own commits (a
    /// transaction observer, on the writer queue); a cluster node hears any node's through the
    /// change feed's `LISTEN` on `tapline_deliveries`, and a notification lost while that
    /// connection is down waits for the dispatcher's next poll (5 s at most). Either way the
    /// callback only wakes the dispatcher early: what is due is always read from the outbox.
    func onDeliveriesQueued(_ callback: @escaping @Sendable () -> Void)
}
