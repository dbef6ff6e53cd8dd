import Dispatch
import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster
@testable import TaplineRuntime

/// The scheduler and the job runner of several nodes on one PostgreSQL database, through
/// `ClusterRuntimeStore`: a manual clock and fake launchers, real row locks and notifications.
@Suite("Cluster: schedulers of several nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterSchedulerTests {
    /// One node's scheduler, runner and launcher.
    struct Node {
        let store: ClusterStore
        let runner: JobRunner
        let scheduler: Scheduler
        let launcher = FakeLauncher(autoExit: true)
        let timer = ManualTimer()
        let directory = NSTemporaryDirectory() + "tapline-cluster-sched-" + UUID().uuidString

        init(_ store: ClusterStore, clock: ManualClock) {
            self.store = store
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let runtime = ClusterRuntimeStore(store: store)
            runner = JobRunner(
                store: runtime, launcher: launcher, settings: JobSettings(stateDirectory: directory), logger: logger,
                now: { clock.now })
            scheduler = Scheduler(
                store: runtime, runner: runner, settings: SchedulerSettings(), stitchClientID: 1, logger: logger,
                clock: clock.schedulerClock, timer: timer)
        }
    }

    /// Runs a call that waits for the database on a dispatch thread, as the daemon's loop does,
    /// never on the cooperative pool.
    static func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    @Test("two nodes' schedulers on one database: every occurrence starts once on one node; a pause through either node holds on both")
    func twoNodes() async throws {
        try await withClusterStore(catalog: testCatalog) { first, database in
            try await withNodeStore(on: database.location, catalog: testCatalog) { second in
                try await first.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: start)
                let membership = ClusterMembership(database: database)
                try await first.joinForTests(membership, name: "n1")
                try await second.joinForTests(membership, name: "n2")
                let clock = ManualClock(start)
                let nodes = [Node(first, clock: clock), Node(second, clock: clock)]
                defer { for node in nodes { try? FileManager.default.removeItem(atPath: node.directory) } }
                for node in nodes { try await Self.onQueue { try node.scheduler.start() } }
                var ids: [Int64] = []
                for i in 0..<5 {
                    let source = try await first.createSource(
                        NewSource(
                            type: demoLikeType.type, displayName: "s\(i)", name: "s\(i)", nameWasDerived: false,
                            changes: try demoLikeType.validate(properties: ["cron_expression": .string("* * * ? * *")]), destinationID: nil),
                        actor: Actor("test"), now: clock.now)
                    ids.append(source.id)
                }
                // Both queues hear of the sources through the change feed.
                let deadline = ContinuousClock.now + .seconds(10)
                while !nodes.allSatisfy({ node in ids.allSatisfy { node.scheduler.due(of: $0) != nil } }) {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("the schedulers never heard of the sources")
                        return
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }

                func turn(_ second: Int) async throws {
                    clock.set(start.addingTimeInterval(Double(second) + 0.001))
                    // Both nodes tick at the same moment, each on its own thread.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for node in nodes { group.addTask { try await Self.onQueue { node.scheduler.tick() } } }
                        try await group.waitForAll()
                    }
                    for node in nodes { await node.runner.waitForRecords() }
                }
                for second in 1...8 { try await turn(second) }
                var paused = SourcePatch()
                paused.pause = .pause(shownAs: clock.now)
                _ = try await second.updateSource(id: ids[0], patch: paused, actor: Actor("api"), now: clock.now)
                for second in 9...12 { try await turn(second) }

                var perSource: [Int64: [Date]] = [:]
                for try await (source, occurrence) in try await database.client.query(
                    "SELECT source_id, scheduled_for FROM jobs WHERE trigger = 'scheduled' ORDER BY scheduled_for"
                ).decode((Int64, Date).self) {
                    perSource[source, default: []].append(ClusterTime.read(occurrence))
                }
                let occurrences = (1...12).map { start.addingTimeInterval(Double($0)) }
                // Every occurrence once: none twice, none lost (each job ends before the next turn).
                for id in ids.dropFirst() { #expect(perSource[id] == occurrences, "source \(id): \(perSource[id] ?? [])") }
                // The paused source: up to the pause, nothing after it.
                #expect(perSource[ids[0]] == Array(occurrences.prefix(8)))
                let launched = nodes[0].launcher.count + nodes[1].launcher.count
                #expect(launched == 8 + 4 * 12)
            }
        }
    }

    @Test("the history pruner over PostgreSQL removes what the policy says, in small steps, and the logs of what it removed")
    func pruner() async throws {
        try await withClusterStore(catalog: testCatalog) { store, database in
            try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: start)
            try await store.joinForTests(ClusterMembership(database: database), name: "n1")
            let source = try await store.createSource(
                NewSource(
                    type: demoLikeType.type, displayName: "s", name: "s", nameWasDerived: false,
                    changes: try demoLikeType.validate(properties: [:]), destinationID: nil),
                actor: Actor("test"), now: start)
            let directory = NSTemporaryDirectory() + "tapline-pruner-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for i in 0..<12 {
                let at = start.addingTimeInterval(Double(i))
                guard case .started(let job, _) = try await store.startManualJob(sourceID: source.id, now: at, jobName: "j\(i)") else {
                    Issue.record("not started")
                    return
                }
                let log = directory + "/j\(i).log"
                FileManager.default.createFile(atPath: log, contents: Data("log".utf8))
                try await store.recordSpawned([SpawnedJob(jobID: job.id, processGroup: 1, spawnedAt: at, logPath: log)])
                try await store.recordCompletions(
                    [(job.id, JobOutcome(status: .succeeded, completedAt: at, tapExitStatus: 0, targetExitStatus: 0))],
                    policy: CompletionPolicy())
            }
            var policy = RetentionPolicy()
            policy.days = 0
            policy.jobsPerSource = 4
            policy.batch = 3
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let pruner = HistoryPruner(store: ClusterRuntimeStore(store: store), policy: policy, logger: logger, now: { start })
            let removed = try await Self.onQueue { pruner.pruneUntilDone(pause: 0) }
            #expect(removed.jobs == 8)
            let kept = try await store.jobs(sourceID: source.id, page: 1, perPage: 100, filter: JobFilter()).jobs.map(\.jobName)
            #expect(kept == ["j11", "j10", "j9", "j8"])
            let logs = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            #expect(logs == ["j10.log", "j11.log", "j8.log", "j9.log"])
        }
    }

}
