import Foundation
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime

/// The scheduling loop with a manual clock and a fake launcher: no sleeping, no processes.
@Suite("Scheduler loop")
struct SchedulerLoopTests {
    @Test("cron occurrences start on time; an occurrence during a running job is skipped, not queued")
    func cronAndOverlap() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("every_ten", properties: ["cron_expression": .string("*/10 * * ? * *")])
        #expect(source.nextFireAt == at("2026-11-29T10:00:10Z"))
        await h.tick(at: at("2026-11-29T10:00:09.999Z"))
        #expect(h.launcher.count == 0)
        await h.tick(at: at("2026-11-29T10:00:10.002Z"))
        #expect(h.launcher.count == 1)
        // Still running at 10:00:20: skipped and recorded.
        await h.tick(at: at("2026-11-29T10:00:20.001Z"))
        #expect(h.launcher.count == 1)
        let skipped = try await h.store.events(sourceID: source.id).filter { $0.kind == .skipped }
        #expect(skipped.count == 1 && skipped[0].reason == "overlap")
        h.launcher.exit(0)
        await h.runner.waitForRecords()
        await h.tick(at: at("2026-11-29T10:00:30.001Z"))
        #expect(h.launcher.count == 2)
        let jobs = try await h.jobs(source.id)
        #expect(jobs.map(\.scheduledFor) == [at("2026-11-29T10:00:10Z"), at("2026-11-29T10:00:30Z")])
        #expect(jobs.map(\.status) == [.succeeded, .running])
        #expect(jobs[0].tapExitStatus == 0 && jobs[0].processGroup != nil)
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T10:00:40Z"))
    }

    @Test("a schedule edited while its occurrence is being started keeps the edit's due time")
    func editDuringClaim() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("edited", properties: ["cron_expression": .string("25 * * ? * *")])
        // The API moves the schedule to second 35 after the 10:00:25 start committed, before the
        // scheduler has recorded that start's next fire (10:01:25).
        let store = h.store
        let scheduler = h.scheduler
        let clock = h.clock
        h.launcher.duringLaunch.withLock {
            $0 = { _ in
                let done = DispatchSemaphore(value: 0)
                Task {
                    var patch = SourcePatch()
                    patch.changes = try demoLikeType.validate(properties: ["cron_expression": .string("35 * * ? * *")])
                    _ = try await store.updateSource(id: source.id, patch: patch, actor: Actor("api"), now: clock.now)
                    done.signal()
                }
                done.wait()
            }
        }
        await h.tick(at: at("2026-11-29T10:00:25.001Z"))
        h.launcher.duringLaunch.withLock { $0 = nil }
        #expect(try await h.store.source(id: source.id)?.nextFireAt == at("2026-11-29T10:00:35Z"))
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T10:00:35Z"))
        h.launcher.exit(0)
        await h.runner.waitForRecords()
        await h.tick(at: at("2026-11-29T10:00:35.001Z"))
        let jobs = try await h.jobs(source.id)
        #expect(jobs.map(\.scheduledFor) == [at("2026-11-29T10:00:25Z"), at("2026-11-29T10:00:35Z")])
        #expect(jobs.last?.startedAt == at("2026-11-29T10:00:35.001Z"), "started on time, not a minute late")
    }

    @Test("a plain interval runs at once, then counts from each start; a manual start moves it")
    func interval() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("hourly", properties: ["frequency_in_minutes": .string("60")])
        await h.tick(at: at("2026-11-29T10:00:00.003Z"))
        #expect(h.launcher.count == 1)
        h.launcher.exit(0)
        await h.runner.waitForRecords()
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T11:00:00.003Z"))
        h.clock.set(at("2026-11-29T10:30:00Z"))
        let manual = try await h.store.startManualJob(sourceID: source.id, now: h.clock.now, jobName: "1.1.sync.manual")
        guard case .started(let job, let updated) = manual else {
            Issue.record("\(manual)")
            return
        }
        h.runner.start(job, source: updated)
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T11:30:00Z"))
        await h.tick(at: at("2026-11-29T11:00:00.003Z"))
        #expect(h.launcher.count == 2, "no scheduled start at the old time")
    }

    @Test("a pause acknowledged before the due time wins even if the scheduler's queue is stale")
    func pauseWinsOverStaleQueue() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("s", properties: ["cron_expression": .string("0 * * ? * *")])
        h.clock.set(at("2026-11-29T10:00:59Z"))
        try await h.pause(source.id, notify: false)  // the queue still says 10:01:00
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T10:01:00Z"))
        await h.tick(at: at("2026-11-29T10:01:00.001Z"))
        #expect(h.launcher.count == 0)
        #expect(try await h.jobs(source.id).isEmpty)
        #expect(h.scheduler.due(of: source.id) == nil)
    }

    @Test("manual jobs run while paused; a second start is refused while one runs; pause state is untouched")
    func manualWhilePaused() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("s", properties: ["cron_expression": .string("0 * * ? * *")])
        try await h.pause(source.id)
        let first = try await h.store.startManualJob(sourceID: source.id, now: h.clock.now, jobName: "a")
        guard case .started(let job, let updated) = first else {
            Issue.record("\(first)")
            return
        }
        h.runner.start(job, source: updated)
        #expect(updated.pausedAt != nil)
        #expect(try await h.store.startManualJob(sourceID: source.id, now: h.clock.now, jobName: "b") == .alreadyRunning)
        await h.tick(at: at("2026-11-29T10:05:00Z"))
        #expect(h.launcher.count == 1)
        #expect(try await h.jobs(source.id).map(\.trigger) == [.manual])
    }

    @Test("unpausing never starts a job by itself: the next fire is strictly after the unpause")
    func unpause() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("s", properties: ["cron_expression": .string("0 * * ? * *")])
        try await h.pause(source.id)
        h.clock.set(at("2026-11-29T10:07:00Z"))  // exactly on an occurrence
        try await h.unpause(source.id)
        #expect(h.scheduler.due(of: source.id) == at("2026-11-29T10:08:00Z"))
        await h.tick()
        #expect(h.launcher.count == 0)
        await h.tick(at: at("2026-11-29T10:08:00Z"))
        #expect(h.launcher.count == 1)
    }

    @Test("stop sends SIGTERM to the process group; the job ends stopped with Stitch's Terminated")
    func stop() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("s", properties: [:])
        await h.tick()
        #expect(h.runner.stop(sourceID: source.id))
        #expect(h.launcher.all[0].pipeline.received == [SIGTERM])
        h.launcher.exit(0, tap: .signaled(SIGTERM), target: .exited(0))
        await h.runner.waitForRecords()
        let job = try #require(try await h.jobs(source.id).first)
        #expect(job.status == .stopped)
        #expect(job.tapExitStatus == nil && job.targetExitStatus == nil && job.discoveryExitStatus == nil)
        #expect(job.tapDescription == "Terminated" && job.targetDescription == "Terminated" && job.discoveryDescription == "Terminated")
        #expect(!h.runner.stop(sourceID: source.id))
    }

    @Test("a stop that follows a background start at once still stops the job")
    func stopRightAfterStart() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        let source = try await h.createSource("s", properties: [:])
        guard case .started(let job, let updated) = try await h.store.startManualJob(sourceID: source.id, now: h.clock.now, jobName: "m")
        else {
            Issue.record("not started")
            return
        }
        h.runner.startInBackground(job, source: updated)
        #expect(h.runner.stop(sourceID: source.id), "registered before startInBackground returned")
        for _ in 0..<500 where h.launcher.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(h.launcher.all.first?.pipeline.received == [SIGTERM])
    }

    @Test("a failing tap is recorded with its status; an unexecutable command system-pauses the source")
    func failures() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let a = try await h.createSource("a", properties: [:])
        await h.tick()
        h.launcher.exit(0, tap: .exited(3), target: .exited(0))
        await h.runner.waitForRecords()
        let failed = try #require(try await h.jobs(a.id).first)
        #expect(failed.status == .failed && failed.tapExitStatus == 3 && failed.tapDescription == "tap exited with status 3")
        h.launcher.failNextLaunches(with: LaunchError(role: "tap", command: "tap-fake", reason: "No such file or directory"))
        let b = try await h.createSource("b", properties: [:])
        await h.tick()
        let job = try #require(try await h.jobs(b.id).first)
        #expect(job.status == .failed && job.tapExitStatus == 127)
        let paused = try #require(try await h.store.source(id: b.id))
        #expect(paused.systemPauseReason == "cannot execute the tap tap-fake: No such file or directory")
    }

    @Test("the start budget spreads a burst; the running cap holds the rest until slots free up")
    func budgetAndCap() async throws {
        var settings = SchedulerSettings()
        settings.startsPerSecond = 10
        settings.maxRunningJobs = 15
        let h = try Harness(settings: settings)
        defer { h.cleanup() }
        try h.scheduler.start()
        for i in 0..<30 { try await h.createSource("s\(i)", properties: [:]) }
        await h.tick()
        #expect(h.launcher.count == 10)
        await h.tick()
        #expect(h.launcher.count == 10, "budget spent")
        await h.tick(at: h.clock.now.addingTimeInterval(1))
        #expect(h.launcher.count == 15, "capped at 15 running")
        for i in 0..<5 { h.launcher.exit(i) }
        await h.runner.waitForRecords()
        await h.tick(at: h.clock.now.addingTimeInterval(1))
        #expect(h.launcher.count == 20)
    }

    @Test("after downtime: one coalesced run within the window, a recorded skip outside it")
    func catchUpAfterDowntime() async throws {
        let dir = NSTemporaryDirectory() + "tapline-catchup-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: testCatalog).withTestDestination()
        let clock = ManualClock(start)
        let first = try Harness(store: store, clock: clock)
        try first.scheduler.start()
        let hourly = try await first.createSource("hourly", properties: ["cron_expression": .string("0 0 * ? * *")])
        let minutely = try await first.createSource("minutely", properties: ["cron_expression": .string("0 * * ? * *")])
        first.scheduler.stop()
        // Down from 10:00 until 12:30:30: hourly missed 11:00 and 12:00 (latest 30 min ago, within
        // one hour); minutely missed 150 occurrences (latest 30 s ago, within one minute).
        clock.set(at("2026-11-29T12:30:30Z"))
        var narrow = SchedulerSettings()
        narrow.catchUpWindowSeconds = 60
        let second = try Harness(store: store, settings: narrow, clock: clock)
        try second.scheduler.start()
        await second.tick()
        #expect(try await second.jobs(hourly.id).isEmpty, "outside the 60 s window")
        #expect(try await second.jobs(minutely.id).map(\.scheduledFor) == [at("2026-11-29T12:30:00Z")])
        let skip = try await store.events(sourceID: hourly.id).last
        #expect(skip?.kind == .skipped && skip?.reason == "outside catch-up window")
        #expect(second.scheduler.due(of: hourly.id) == at("2026-11-29T13:00:00Z"))
        second.cleanup()
        first.cleanup()
    }

    @Test("the loop counts as alive from its start, and not once it stopped ticking")
    func loopHealth() throws {
        let h = try Harness()
        defer { h.cleanup() }
        #expect(h.scheduler.isLoopAlive(now: h.clock.now))
        try h.scheduler.start()
        #expect(h.scheduler.isLoopAlive(now: h.clock.now.addingTimeInterval(1)), "no tick yet: an idle loop sleeps")
        #expect(!h.scheduler.isLoopAlive(now: h.clock.now.addingTimeInterval(3600)))
    }

    @Test("the boot sweep ends jobs left running by a previous life as interrupted")
    func bootSweep() async throws {
        let h = try Harness()
        defer { h.cleanup() }
        try h.scheduler.start()
        let source = try await h.createSource("s", properties: [:])
        await h.tick()
        let interrupted = try h.store.interruptRunningJobs(now: h.clock.now)
        #expect(interrupted.count == 1)
        let job = try #require(try await h.jobs(source.id).first)
        #expect(job.status == .interrupted && job.completedAt != nil)
        #expect(try await h.store.startManualJob(sourceID: source.id, now: h.clock.now, jobName: "next") != .alreadyRunning)
    }
}
