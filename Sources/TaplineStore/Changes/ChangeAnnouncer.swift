import Foundation
import GRDB
import Synchronization
import TaplineStoreContract

/// Watches every transaction on the writer connection and, after each commit that touched the
/// `sources` table, announces the committed due time of each touched source.
///
/// It sees rows through SQLite's update hook, not through the methods that wrote them, so a write
/// cannot forget to announce: a claim, a completion that system-pauses, a stream selection or a
/// statement added next year all reach the scheduler the same way. The due times are read back
/// after the commit, so an announcement never carries a value that did not commit.
final class ChangeAnnouncer: TransactionObserver, @unchecked Sendable {
    private struct Pending {
        var touched: Set<Int64> = []
        var edited: Set<Int64> = []
    }

    // Touched only on the writer queue, one transaction at a time; the mutex makes that explicit
    // to the compiler and costs nothing uncontended.
    private let pending = Mutex(Pending())
    private let observers = Mutex<[Weak]>([])

    private struct Weak {
        weak var value: (any StoreObserver)?
    }

    func add(_ observer: any StoreObserver) {
        observers.withLock { list in
            list.removeAll { $0.value == nil }
            list.append(Weak(value: observer))
        }
    }

    /// Marks a source as edited in the current transaction (its announcement then carries the
    /// committed record). Call from inside the write.
    func markEdited(_ sourceID: Int64) {
        pending.withLock { _ = $0.edited.insert(sourceID) }
    }

    // MARK: TransactionObserver

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        eventKind.tableName == "sources"
    }

    func databaseDidChange(with event: DatabaseEvent) {
        let id = event.rowID
        pending.withLock { _ = $0.touched.insert(id) }
    }

    func databaseDidCommit(_ db: Database) {
        let taken = pending.withLock { state -> Pending in
            defer { state = Pending() }
            return state
        }
        guard !taken.touched.isEmpty else { return }
        let listeners = observers.withLock { $0.compactMap(\.value) }
        guard !listeners.isEmpty else { return }
        let changes: [SourceChange]
        do {
            changes = try Self.read(db, touched: taken.touched, edited: taken.edited)
        } catch {
            // The commit stands; only the read-back failed (I/O). The scheduler's periodic
            // wake-up and the start transaction's own checks cover a missed announcement.
            return
        }
        for listener in listeners { listener.sourcesChanged(changes) }
    }

    func databaseDidRollback(_ db: Database) {
        pending.withLock { $0 = Pending() }
    }

    /// Due times of every touched source in one statement (a claim touches hundreds), and the
    /// whole record of the few that were edited.
    private static func read(_ db: Database, touched: Set<Int64>, edited: Set<Int64>) throws -> [SourceChange] {
        let ids = "[" + touched.map(String.init).joined(separator: ",") + "]"
        var due: [Int64: Date] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT id, next_fire_at FROM sources WHERE id IN (SELECT value FROM json_each(?)) AND next_fire_at IS NOT NULL",
            arguments: [ids])
        {
            due[row["id"]] = try StoredTime.required(row["next_fire_at"])
        }
        var changes: [SourceChange] = []
        changes.reserveCapacity(touched.count)
        for id in touched.sorted() {
            let record = edited.contains(id) ? try Store.fetchSource(db, id: id) : nil
            changes.append(SourceChange(sourceID: id, due: due[id], edited: record))
        }
        return changes
    }
}
