import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime
@testable import TaplineStore

/// Randomized pause-versus-due races against a real on-disk database: the scheduler's claims run
/// on one thread while pauses and unpauses are acknowledged on others.
@Suite("Pause races (stress)")
struct PauseRaceStressTests {
    /// For every source and every paused interval: the largest job id committed when the pause
    /// was acknowledged, and the largest when the unpause was sent. A scheduled job of that
    /// source with an id in between started after the pause was acknowledged: a violation.
    struct PausedInterval {
        let sourceID: Int64
        let afterPause: Int64
        var beforeUnpause: Int64?
    }

    static func maxJobID(_ store: Store) async throws -> Int64 {
        try await store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM jobs") ?? 0 }
    }

    @Test("no scheduled job starts after its pause was acknowledged", arguments: [UInt64(1), 2, 3])
    func noStartAfterPause(seed: UInt64) async throws {
        let dir = NSTemporaryDirectory() + "tapline-race-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/race.db", catalog: testCatalog).withTestDestination()
        var settings = SchedulerSettings()
        settings.startsPerSecond = 100_000
        let h = try Harness(store: store, settings: settings, autoExit: true)
        defer { h.cleanup() }
        try h.scheduler.start()
        let sourceCount = 40
        for i in 0..<sourceCount {
            try await h.createSource("s\(i)", properties: ["cron_expression": .string("* * * ? * *")])
        }
        var rng = SplitMix64(seed: seed)
        var intervals: [PausedInterval] = []
        var open: [Int64: Int] = [:]  // source → index of its open interval
        for _ in 0..<120 {
            h.clock.advance(1)
            let operations = (0..<4).map { _ in (Int64.random(in: 1...Int64(sourceCount), using: &rng), Bool.random(using: &rng)) }
            // The tick runs on a dispatch thread while the API-like pauses run here.
            async let ticked: Void = withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    h.scheduler.tick()
                    continuation.resume()
                }
            }
            for (sourceID, wantPause) in operations {
                if wantPause, open[sourceID] == nil {
                    try await h.pause(sourceID)
                    intervals.append(PausedInterval(sourceID: sourceID, afterPause: try await Self.maxJobID(store)))
                    open[sourceID] = intervals.count - 1
                } else if !wantPause, let index = open[sourceID] {
                    intervals[index].beforeUnpause = try await Self.maxJobID(store)
                    try await h.unpause(sourceID)
                    open[sourceID] = nil
                }
            }
            await ticked
            await h.runner.waitForRecords()
        }
        let end = try await Self.maxJobID(store)
        let scheduled = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, source_id FROM jobs WHERE trigger = 'scheduled'")
                .map { (id: $0["id"] as Int64, source: $0["source_id"] as Int64) }
        }
        var violations: [String] = []
        for interval in intervals {
            let upper = interval.beforeUnpause ?? end
            for job in scheduled where job.source == interval.sourceID && job.id > interval.afterPause && job.id <= upper {
                violations.append("source \(interval.sourceID): job \(job.id) after pause acknowledged at job \(interval.afterPause)")
            }
        }
        #expect(violations.isEmpty, "\(violations)")
        #expect(scheduled.count > 500, "the race must actually run jobs (ran \(scheduled.count))")
        #expect(intervals.count > 50)
        // Every pause-state change has its event, and the schema's invariants held throughout.
        let pauseEvents = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM source_events WHERE kind = 'paused'") ?? 0
        }
        #expect(pauseEvents == intervals.count)
        let duplicates = try await store.writer.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE trigger = 'scheduled' GROUP BY source_id, scheduled_for HAVING count(*) > 1)"
            ) ?? 0
        }
        #expect(duplicates == 0)
        #expect(try await store.integrityCheck() == ["ok"])
    }
}
