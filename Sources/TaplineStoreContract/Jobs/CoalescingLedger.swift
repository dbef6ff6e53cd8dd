import Foundation
import Synchronization

/// Why overdue occurrences are put through the catch-up rules; named in their `skipped` event.
public enum CatchUpCause: Sendable {
    /// tapline was not running.
    case downtime
    /// The wall clock stepped forward over them.
    case clockStep

    package var detail: String {
        switch self {
        case .downtime: "while tapline was not running"
        case .clockStep: "when the wall clock stepped forward"
        }
    }
}

/// Counts occurrences coalesced by late starts, per source, so that the events table records
/// them at most once an hour per source (an every-second source one second late would otherwise
/// add a row per second), each event with the count since the previous one.
///
/// In memory, one ledger per store instance: after a restart the next coalescing writes an event
/// at once, and in a cluster each node keeps its own, so a source whose occurrences several
/// nodes coalesce gets at most one such event an hour from each node (a documented difference
/// from the single node, where "per source" is the whole rule; the count is never lost, each
/// event carries its node's count since its previous one). The metric
/// `tapline_occurrences_skipped_total{reason="coalesced"}` counts every one.
package final class CoalescingLedger: Sendable {
    package struct Report: Equatable {
        let count: Int
        let since: Date
    }

    private struct Entry {
        var pending = 0
        var since: Date
        var lastEvent: Date?
    }

    package static let interval: TimeInterval = 3600
    private let entries = Mutex<[Int64: Entry]>([:])

    package init() {}

    /// Adds `count` coalesced occurrences of a source; returns what to record when an event is
    /// due (none yet for this source, or the last one is an hour old).
    package func add(_ count: Int, sourceID: Int64, at now: Date) -> Report? {
        entries.withLock { entries in
            var entry = entries[sourceID] ?? Entry(since: now)
            entry.pending += count
            defer { entries[sourceID] = entry }
            if let last = entry.lastEvent, abs(now.timeIntervalSince(last)) < Self.interval { return nil }
            let report = Report(count: entry.pending, since: entry.since)
            entry = Entry(since: now, lastEvent: now)
            return report
        }
    }
}
