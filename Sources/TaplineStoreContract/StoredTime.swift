import Foundation
import TaplineCore

/// Timestamps as SQLite stores them: ISO 8601 UTC text, whole seconds or milliseconds.
///
/// PostgreSQL keeps `timestamptz`, but writes the same instants through the same formatting and
/// snaps what it reads back to the millisecond (`ClusterTime`), so both stores hand back the
/// same `Date` for the same write: a difference of representation, not of values (the store
/// suites compare times on both).
package enum StoredTime {
    /// Whole seconds, for user-facing instants (`created_at`, `paused_at`, …).
    package static func seconds(_ date: Date) -> String { Timestamp.format(date) }
    /// Milliseconds, for instants the scheduler computes with (`next_fire_at`, job times).
    package static func millis(_ date: Date) -> String { Timestamp.formatMilliseconds(date) }

    package static func optional(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        return try required(text)
    }

    package static func required(_ text: String) throws -> Date {
        // Any year: a pause may name an instant before 1970.
        guard let date = Timestamp.parse(text, years: 1...9999) else { throw StoreError.corruptValue("timestamp \(text)") }
        return date
    }
}
