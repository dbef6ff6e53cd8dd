import Foundation
import TaplineCore
import TaplineStoreContract
import Testing

@testable import TaplineRuntime
@testable import TaplineStore

/// What reaches the scheduler without anyone telling it, and what the wall clock can do to it.
@Suite("Scheduler: announcements and time")
struct SchedulerTimeTests {
    @Test("a system pause written by the runner's completions reaches the scheduler's queue through the store")
    func runnerSystemPauseReachesScheduler() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("failing", properties: ["cron_expression": .string("* * * ? * *")])
        var when = start
        for i in 0..<5 {
            when = when.addingTimeInterval(1)
            await h.tick(at: when.addingTimeInterval(0.001))
            #expect(h.launcher.count == i + 1)
            h.launcher.exit(i, tap: .exited(1))
            await h.runner.waitForRecords()
        }
        #expect(try await h.store.source(id: source.id)?.systemPausedAt != nil)
        #expect(h.scheduler.due(of: source.id) == nil, "the recorder's system pause was announced")
        await h.tick(at: when.addingTimeInterval(5))
        #expect(h.launcher.count == 5)
    }

    @Test("a forward step of the wall clock applies the catch-up rules: no burst, one run within the window, events say why")
    func forwardStep() async throws {
        var settings = SchedulerSettings()
        settings.catchUpWindowSeconds = 120
        let h = try Harness(settings: settings)
        defer { h.cleanup() }
        try h.scheduler.start()
        let minutely = try await h.createSource("minutely", properties: ["cron_expression": .string("0 * * ? * *")])
        let daily = try await h.createSource("daily", properties: ["cron_expression": .string("0 30 11 ? * *")])
        await h.tick(at: at("2026-11-29T10:00:30Z"))
        // The clock jumps 2 h ahead at 10:00:40: minutely's 120 occurrences were passed over,
        // its latest (12:00) lies 40 s back, inside the window; daily's 11:30 lies 30 min back.
        h.clock.advance(10)
        h.clock.stepWall(by: 7200)
        await h.tick()
        #expect(h.launcher.count == 0, "nothing starts on the tick that saw the step")
        #expect(try await h.store.events(sourceID: daily.id).last?.detail == "1 occurrence(s) missed when the wall clock stepped forward")
        #expect(h.scheduler.due(of: daily.id) == at("2026-11-30T11:30:00Z"))
        await h.tick()
        #expect(try await h.jobs(minutely.id).map(\.scheduledFor) == [at("2026-11-29T12:00:00Z")], "one coalesced run, not 120")
        #expect(try await h.jobs(daily.id).isEmpty)
    }

    @Test("a backward step neither runs an occurrence twice nor stalls the start budget")
    func backwardStep() async throws {
        var settings = SchedulerSettings()
        settings.startsPerSecond = 1
        let h = try Harness(settings: settings)
        defer { h.cleanup() }
        try h.scheduler.start()
        let every = try await h.createSource("every10s", properties: ["cron_expression": .string("*/10 * * ? * *")])
        await h.tick(at: at("2026-11-29T10:00:10.001Z"))
        h.launcher.exit(0)
        await h.runner.waitForRecords()
        // Back an hour: 09:00:12. The occurrences up to 10:00:10 ran; the source waits for 10:00:20.
        h.clock.advance(2)
        h.clock.stepWall(by: -3600)
        await h.tick()
        #expect(h.scheduler.due(of: every.id) == at("2026-11-29T10:00:20Z"))
        let manual = try await h.createSource("new", properties: [:])
        await h.tick()
        #expect(try await h.jobs(manual.id).count == 1, "a new source starts at once: the budget refilled on the monotonic clock")
        let scheduled = try await h.store.jobs(sourceID: every.id, page: 1).jobs.map(\.scheduledFor)
        #expect(scheduled == [at("2026-11-29T10:00:10Z")])
    }

    @Test("late starts count what they coalesce: a metric for each, an event at most once an hour per source")
    func coalescedAccounting() async throws {
        let metrics = TaplineMetrics()
        let h = try Harness(metrics: metrics)
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("everysecond", properties: ["cron_expression": .string("* * * ? * *")])
        // Due 10:00:01, handled 3.5 s late: 10:00:02, :03 and :04 coalesce into that job.
        await h.tick(at: at("2026-11-29T10:00:04.5Z"))
        h.launcher.exit(0)
        await h.runner.waitForRecords()
        await h.tick(at: at("2026-11-29T10:00:07.5Z"))  // due :05, late by 2 more
        let coalesced = try await h.store.events(sourceID: source.id).filter { $0.reason == "coalesced" }
        #expect(coalesced.count == 1, "one event an hour, not one per late second")
        #expect(coalesced.first?.detail?.hasPrefix("3 occurrence(s) since 2026-11-29T10:00:04.500Z") == true)
        #expect(metrics.render().contains(#"tapline_occurrences_skipped_total{reason="coalesced"} 5"#))
    }
}
