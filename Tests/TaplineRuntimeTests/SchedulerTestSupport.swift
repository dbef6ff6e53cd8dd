import Foundation
import GRDB
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport

@testable import TaplineRuntime
@testable import TaplineStore

let demoLikeType = SourceType(
    type: "platform.fake", displayName: "Fake", properties: [PropertySpec(name: "p")], tapCommand: ["tap-fake"])
let testCatalog = SourceTypeCatalog([demoLikeType])
let start = Timestamp.parse("2026-11-29T10:00:00Z")!

/// A scheduler over an in-memory (or given) store, a fake launcher and a manual clock.
struct Harness {
    let store: Store
    let clock: ManualClock
    let launcher: FakeLauncher
    let runner: JobRunner
    let scheduler: Scheduler
    let timer = ManualTimer()
    let directory: String

    init(
        store: Store? = nil, settings: SchedulerSettings = SchedulerSettings(), clock: ManualClock = ManualClock(start),
        autoExit: Bool = false, metrics: TaplineMetrics? = nil, jobs: JobPolicy = JobPolicy()
    ) throws {
        self.store = try store ?? Store.inMemory(catalog: testCatalog).withTestDestination()
        self.clock = clock
        launcher = FakeLauncher(autoExit: autoExit)
        directory = NSTemporaryDirectory() + "tapline-sched-" + UUID().uuidString
        var jobSettings = JobSettings(stateDirectory: directory)
        jobSettings.policy = jobs
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let clockRef = clock
        runner = JobRunner(
            store: self.store, launcher: launcher, settings: jobSettings, logger: logger,
            now: { clockRef.now })
        scheduler = Scheduler(
            store: self.store, runner: runner, settings: settings, stitchClientID: 1, logger: logger,
            clock: clock.schedulerClock, timer: timer, metrics: metrics)
    }

    /// Creates a source the way the API does (the store tells the scheduler).
    @discardableResult
    func createSource(_ name: String, properties: [String: JSONValue]) async throws -> SourceRecord {
        let source = try await store.createSource(
            NewSource(
                type: demoLikeType.type, displayName: name, name: name, nameWasDerived: false,
                changes: try demoLikeType.validate(properties: properties), destinationID: nil),
            actor: Actor("test"), now: clock.now)
        return source
    }

    /// Pauses; with `notify: false` the store's announcement is lost (as if read-back failed),
    /// so the scheduler's queue is stale and only the start transaction's re-check stands.
    func pause(_ id: Int64, notify: Bool = true) async throws {
        var patch = SourcePatch()
        patch.pause = .pause(shownAs: clock.now)
        _ = try await silently(unless: notify) {
            try await store.updateSource(id: id, patch: patch, actor: Actor("test"), now: clock.now)
        }
    }

    /// Runs `body` with the store's announcements switched off (unless `announce`): the writes
    /// in it never reach the scheduler's queue.
    func silently<T>(unless announce: Bool = false, _ body: () async throws -> T) async rethrows -> T {
        if announce { return try await body() }
        store.writer.remove(transactionObserver: store.announcer)
        defer { store.writer.add(transactionObserver: store.announcer, extent: .databaseLifetime) }
        return try await body()
    }

    func unpause(_ id: Int64) async throws {
        var patch = SourcePatch()
        patch.pause = .unpause
        _ = try await store.updateSource(id: id, patch: patch, actor: Actor("test"), now: clock.now)
    }

    /// Ticks at `date` and waits for the job records to be written.
    func tick(at date: Date? = nil) async {
        if let date { clock.set(date) }
        scheduler.tick()
        await runner.waitForRecords()
    }

    func jobs(_ sourceID: Int64) async throws -> [JobRecord] {
        try await store.jobs(sourceID: sourceID, page: 1).jobs.reversed()
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: directory) }
}

func at(_ text: String) -> Date { Timestamp.parse(text)! }
