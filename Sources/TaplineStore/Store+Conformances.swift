import Foundation
import TaplineCore
import TaplineStoreContract

/// The contract's protocols, all answered by the SQLite store (each operation lives in the
/// `Store+X.swift` file of its concern).
extension Store: SourceStore {}

extension Store: WebhookOutbox {}

extension Store: SchedulerStore, RunnerStore {
    public func isRetryable(_ error: any Error) -> Bool { Self.isBusy(error) }
}

extension Store: PrunerStore {}

extension Store: JobStore {
    public func recordSpawned(_ spawned: [SpawnedJob]) throws {
        try recordSpawned(spawned.map { ($0.jobID, $0.processGroup, $0.spawnedAt, $0.logPath) })
    }
}

extension Store: ScheduledStartStore {}

extension Store: HistoryStore {}

extension Store: StreamStore {}

extension Store: ExtractionStore {}

extension Store: DestinationStore {}
