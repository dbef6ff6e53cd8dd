import Foundation
import TaplineCore

/// The account's destination, whichever database holds it (`Store`, `ClusterStore`): one live
/// destination at a time, as in Stitch; deleting it system-pauses every source and creating one
/// releases them, in the same transaction.
public protocol DestinationStore: AnyObject, Sendable {
    /// Every destination, deleted ones included, by id.
    func destinations() async throws -> [DestinationRecord]
    /// Creates the destination a fresh install starts with, only when none ever existed.
    @discardableResult
    func createInitialDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        async throws -> Bool
    /// Creates the account's destination; a second live one is refused (`DestinationError.alreadyExists`).
    func createDestination(type: String, properties: [String: String], credentials: [String: String], now: Date)
        async throws -> DestinationRecord
    /// Merges property changes into the live destination `id`.
    func updateDestination(
        id: Int64, regular: [String: ValueChange<String>], credentials: [String: ValueChange<String>], now: Date
    ) async throws -> DestinationRecord
    /// Soft-deletes the live destination `id` and system-pauses every live source.
    func deleteDestination(id: Int64, now: Date) async throws -> DestinationRecord
}
