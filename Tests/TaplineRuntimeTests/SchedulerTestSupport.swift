import Foundation
import Logging
import Synchronization
import GRDB
import TaplineCore

@testable import TaplineRuntime
@testable import TaplineStore

/// A clock the test moves by hand: scheduler tests never sleep. Setting the time moves both the
/// wall and the monotonic reading (time passed); `stepWall` moves the wall clock alone, as an
/// operator or a broken NTP does.
final class ManualClock: Sendable {
    private let value: Mutex<(wall: Date, monotonic: TimeInterval)>
    init(_ start: Date) { value = Mutex((start, 1000)) }
    var now: Date { value.withLock { $0.wall } }
    var monotonic: TimeInterval { value.withLock { $0.monotonic } }
    func set(_ date: Date) {
        value.withLock { v in
            v.monotonic += max(0, date.timeIntervalSince(v.wall))
            v.wall = date
        }
    }
    func advance(_ seconds: TimeInterval) { set(now.addingTimeInterval(seconds)) }
    func stepWall(by seconds: TimeInterval) { value.withLock { $0.wall = $0.wall.addingTimeInterval(seconds) } }
    var schedulerClock: SchedulerClock {
        SchedulerClock(wall: { self.now }, monotonic: { self.monotonic })
    }
}

/// A timer that only records what the scheduler armed; the test ticks by hand.
final class ManualTimer: SchedulerTimer {
    private let state = Mutex<(deadline: Date?, handler: (@Sendable () -> Void)?)>((nil, nil))
    var deadline: Date? { state.withLock { $0.deadline } }
    func setHandler(_ handler: @escaping @Sendable () -> Void) { state.withLock { $0.handler = handler } }
    func arm(at deadline: Date, now: Date) { state.withLock { $0.deadline = deadline } }
    func cancel() { state.withLock { $0.deadline = nil } }
    /// Runs the wake-up, as Dispatch would at the deadline.
    func fire() { state.withLock { $0.handler }?() }
}

/// A launcher that starts nothing: it records each pipeline and lets the test end it.
final class FakeLauncher: PipelineLauncher {
    struct Launch {
        let spec: PipelineSpec
        let onExit: @Sendable (PipelineExit) -> Void
        let pipeline: FakePipeline
    }

    private let launches = Mutex<[Launch]>([])
    /// One counter for launches and exits, so a test can tell which came first.
    private let events = Mutex<(next: Int, launched: [Int], exited: [Int: Int])>((0, [], [:]))
    private let failure = Mutex<LaunchError?>(nil)
    private let nextGroup = Mutex<Int32>(10_000)
    /// When set, every pipeline "exits" successfully right after it starts.
    let autoExit: Bool
    /// Runs inside each launch, i.e. after the start transaction committed and before the
    /// scheduler has taken the claim's answer: where a concurrent API change can land.
    let duringLaunch = Mutex<(@Sendable (PipelineSpec) -> Void)?>(nil)

    init(autoExit: Bool = false) { self.autoExit = autoExit }

    var count: Int { launches.withLock { $0.count } }
    var all: [Launch] { launches.withLock { $0 } }

    func failNextLaunches(with error: LaunchError?) { failure.withLock { $0 = error } }

    func launch(_ spec: PipelineSpec, onExit: @escaping @Sendable (PipelineExit) -> Void) throws -> any RunningPipeline {
        if let error = failure.withLock({ $0 }) { throw error }
        if let hook = duringLaunch.withLock({ $0 }) { hook(spec) }
        let group = nextGroup.withLock { g -> Int32 in
            g += 1
            return g
        }
        let pipeline = FakePipeline(processGroup: group)
        events.withLock { e in
            launches.withLock { $0.append(Launch(spec: spec, onExit: onExit, pipeline: pipeline)) }
            e.launched.append(e.next)
            e.next += 1
        }
        if autoExit {
            DispatchQueue.global().async { onExit(PipelineExit(tap: .exited(0), target: .exited(0))) }
        }
        return pipeline
    }

    /// Ends launch `index` as if both processes exited with these statuses.
    func exit(_ index: Int, tap: ProcessExit = .exited(0), target: ProcessExit = .exited(0)) {
        let launch = launches.withLock { $0[index] }
        events.withLock { e in
            e.exited[index] = e.next
            e.next += 1
        }
        launch.onExit(PipelineExit(tap: tap, target: target))
    }

    /// The launches that have not exited yet, optionally only those of one source.
    func unexited(sourceID: Int64? = nil) -> [Int] {
        let (all, exited) = (self.all, order.exited)
        return all.indices.filter { index in
            exited[index] == nil
                && (sourceID.map { all[index].spec.environment["TAPLINE_SOURCE_ID"] == String($0) } ?? true)
        }
    }

    /// For each launch, its place in the launch/exit order, and its exit's place if it exited.
    var order: (launched: [Int], exited: [Int: Int]) { events.withLock { ($0.launched, $0.exited) } }
}

final class FakePipeline: RunningPipeline {
    let processGroup: Int32
    private let signals = Mutex<[Int32]>([])
    init(processGroup: Int32) { self.processGroup = processGroup }
    func signal(_ signal: Int32) { signals.withLock { $0.append(signal) } }
    var received: [Int32] { signals.withLock { $0 } }
}

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
        autoExit: Bool = false, metrics: TaplineMetrics? = nil
    ) throws {
        self.store = try store ?? Store.inMemory(catalog: testCatalog).withTestDestination()
        self.clock = clock
        launcher = FakeLauncher(autoExit: autoExit)
        directory = NSTemporaryDirectory() + "tapline-sched-" + UUID().uuidString
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let clockRef = clock
        runner = JobRunner(
            store: self.store, launcher: launcher, settings: JobSettings(stateDirectory: directory), logger: logger,
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
