import GRDB
import Synchronization
import TaplineStoreContract

/// Tells the webhook dispatcher, after a commit, that new deliveries are waiting, so it sends
/// them at once instead of on its next poll. The deliveries are written by triggers inside the
/// transaction that ended a job or changed a system pause; whoever wrote that transaction (the
/// runner, the API, the scheduler) need not know webhooks exist.
final class DeliveryAnnouncer: TransactionObserver, Sendable {
    private let inserted = Mutex(false)
    private let listener = Mutex<(@Sendable () -> Void)?>(nil)

    func setListener(_ callback: @escaping @Sendable () -> Void) {
        listener.withLock { $0 = callback }
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "webhook_deliveries" }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        inserted.withLock { $0 = true }
    }

    func databaseDidCommit(_ db: Database) {
        guard
            inserted.withLock({ value in
                defer { value = false }
                return value
            })
        else { return }
        listener.withLock { $0 }?()
    }

    func databaseDidRollback(_ db: Database) {
        inserted.withLock { $0 = false }
    }
}
