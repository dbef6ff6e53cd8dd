import Dispatch
import Foundation
import GRDB
import Synchronization

/// Commits the API's writes that arrive together in one transaction, each in a savepoint of its
/// own, and answers each caller only after that commit.
///
/// Every commit costs a device flush (`synchronous=FULL`). One transaction per request made the
/// writer the bottleneck under a burst of pauses: at a thousand a second each waited behind
/// the flushes of all those before it. Now whatever arrives while a commit is in flight goes
/// into the next one, so a request waits for at most the commit in progress and its own.
///
/// Nothing of the contract changes: a write is acknowledged only once it is durable, and a
/// write that fails (a refused name, a deleted source) rolls back its own savepoint and no
/// other. If the transaction itself fails (the database is locked by another process, an I/O
/// error), every write in it fails with that error and none is acknowledged.
final class GroupCommit: Sendable {
    private struct Item: Sendable {
        let body: @Sendable (Database) throws -> any Sendable
        let done: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    private struct Pending {
        var items: [Item] = []
        var flushing = false
    }

    private let writer: any DatabaseWriter
    private let pending = Mutex(Pending())
    private let queue = DispatchQueue(label: "tapline.group-commit", qos: .userInitiated)

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let item = Item(
                body: { try body($0) },
                done: { result in
                    // The body returned a T; the cast only undoes the boxing above.
                    continuation.resume(with: result.map { $0 as! T })
                })
            let start = pending.withLock { state -> Bool in
                state.items.append(item)
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if start { queue.async { self.flush() } }
        }
    }

    private func flush() {
        while true {
            let batch = pending.withLock { state -> [Item] in
                let batch = state.items
                state.items = []
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            var results: [Result<any Sendable, any Error>] = []
            results.reserveCapacity(batch.count)
            do {
                try writer.write { db in
                    results = []
                    for item in batch {
                        var value: (any Sendable)?
                        do {
                            try db.inSavepoint {
                                value = try item.body(db)
                                return .commit
                            }
                            results.append(.success(value!))
                        } catch {
                            results.append(.failure(error))
                        }
                    }
                }
            } catch {
                // Nothing of this transaction committed.
                results = batch.map { _ in .failure(error) }
            }
            for (item, result) in zip(batch, results) { item.done(result) }
        }
    }
}
