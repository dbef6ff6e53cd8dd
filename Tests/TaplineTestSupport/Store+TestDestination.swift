import Foundation
import TaplineStore
import TaplineStoreContract

extension Store {
    /// The store with the account's destination, as a daemon has from its first start: without
    /// one, scheduled starts system-pause their sources and manual starts are refused.
    public func withTestDestination() throws -> Store {
        try createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
        return self
    }
}
