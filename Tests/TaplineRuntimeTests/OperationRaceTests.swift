import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineRuntime
@testable import TaplineStore

/// Randomized interleavings of every operation the API offers (pause, unpause, update, delete,
/// manual start, stop) with due ticks and job exits, against a real on-disk database. Each seed
/// is reproducible; the checks after each run are DESIGN §2's promises.
@Suite("Operation races (stress)")
struct OperationRaceTests {
    enum Operation: CaseIterable {
        case pause, unpause, update, delete, manualStart, stop, exitJob
    }

    /// What one worker did to the sources it owns; a worker owns its sources, so its view of
    /// their pause and delete state is exact even though workers and ticks run concurrently.
    struct WorkerLog: Sendable {
        var succeeded: [SourceEvent.Kind: Int] = [:]
        /// Per source: (job id high-water mark when a pause or delete was acknowledged,
        /// high-water mark just before the unpause was sent; nil while still paused or deleted).
        var quiet: [(source: Int64, after: Int64, before: Int64?)] = []
        var manualStarts = 0
        var stops = 0
    }

    static func maxJobID(_ store: Store) async throws -> Int64 {
        try await store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM jobs") ?? 0 }
    }

    /// Three seeds by default; `TAPLINE_RACE_SEEDS=200 swift test --filter "Operation races"` runs
    /// seeds 11 … 210 for a long run.
    static let seeds: [UInt64] = {
        let count = ProcessInfo.processInfo.environment["TAPLINE_RACE_SEEDS"].flatMap(UInt64.init) ?? 3
        return (0..<max(1, count)).map { 11 + $0 }
    }()

    @Test(
        "no start after pause or delete, one running job per source, no duplicate occurrence, every change has its event",
        arguments: seeds)
    func randomOperations(seed: UInt64) async throws {
        let dir = NSTemporaryDirectory() + "tapline-ops-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/ops.db", catalog: testCatalog).withTestDestination()
        var settings = SchedulerSettings()
        settings.startsPerSecond = 100_000
        // Failed scheduled jobs are retried (a retry fits before the next second's occurrence)
        // and a job left running for a few rounds times out: both go through the same start
        // transaction as every scheduled start, and must never start a paused source.
        var jobPolicy = JobPolicy()
        jobPolicy.retry = RetryPolicy(retries: 2, initialDelay: 0.3, maxDelay: 0.6)
        jobPolicy.timeoutSeconds = 0.06
        let h = try Harness(store: store, settings: settings, jobs: jobPolicy)
        defer { h.cleanup() }
        try h.scheduler.start()

        let workers = 4
        let perWorker = 8
        let iterations = 150
        for i in 0..<(workers * perWorker) {
            try await h.createSource("s\(i)", properties: ["cron_expression": .string("* * * ? * *")])
        }
        var logs: [WorkerLog] = []
        var master = SplitMix64(seed: seed)
        let workerSeeds = (0..<workers).map { _ in master.next() }

        for round in 0..<iterations {
            h.clock.advance(1)
            async let ticked: Void = withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    h.scheduler.tick()
                    continuation.resume()
                }
            }
            // Each worker does two random operations on its own sources this round.
            let results = try await withThrowingTaskGroup(of: (Int, WorkerLog).self) { group in
                for w in 0..<workers {
                    let owned = (1...perWorker).map { Int64(w * perWorker + $0) }
                    let prior = round == 0 ? WorkerLog() : logs[w]
                    var rng = SplitMix64(seed: workerSeeds[w] &+ UInt64(round) &* 0x9E37_79B9)
                    group.addTask {
                        var log = prior
                        for _ in 0..<2 {
                            let source = owned[Int.random(in: 0..<owned.count, using: &rng)]
                            let op = Operation.allCases.randomElement(using: &rng)!
                            try await Self.perform(op, on: source, h: h, store: store, log: &log, rng: &rng)
                        }
                        return (w, log)
                    }
                }
                var out = [WorkerLog](repeating: WorkerLog(), count: workers)
                for try await (w, log) in group { out[w] = log }
                return out
            }
            logs = results
            await ticked
            // Jobs end on their own too: about half of the running pipelines exit each second.
            for index in h.launcher.unexited() where Bool.random(using: &master) {
                h.launcher.exit(index, tap: Int.random(in: 0..<5, using: &master) == 0 ? .exited(1) : .exited(0))
            }
            await h.runner.waitForRecords()
        }
        // End every job still running, so each outcome is recorded before the checks. A manual
        // start's launch runs on a dispatch queue, so one may still be on its way: repeat until
        // the runner has nothing left.
        for _ in 0..<100 {
            for index in h.launcher.unexited() { h.launcher.exit(index) }
            await h.runner.waitForRecords()
            if h.runner.runningCount == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }

        let end = try await Self.maxJobID(store)
        let jobs = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, source_id, trigger FROM jobs")
                .map { (id: $0["id"] as Int64, source: $0["source_id"] as Int64, trigger: $0["trigger"] as String) }
        }
        var violations: [String] = []

        // 1. No scheduled job was created for a source while it was paused or deleted.
        for log in logs {
            for interval in log.quiet {
                let upper = interval.before ?? end
                for job in jobs
                where job.trigger == "scheduled" && job.source == interval.source
                    && job.id > interval.after && job.id <= upper
                {
                    violations.append("source \(interval.source): scheduled job \(job.id) inside quiet interval \(interval)")
                }
            }
        }
        // 2. Never two pipelines of one source at once: each launch of a source comes after the
        //    exit of that source's previous launch.
        let order = h.launcher.order
        var lastOfSource: [String: Int] = [:]
        for (index, launch) in h.launcher.all.enumerated() {
            let source = launch.spec.environment["TAPLINE_SOURCE_ID"] ?? "?"
            if let previous = lastOfSource[source] {
                if let exited = order.exited[previous], exited < order.launched[index] {
                } else {
                    violations.append("source \(source): launch \(index) while launch \(previous) was running")
                }
            }
            lastOfSource[source] = index
        }
        // 3. No duplicate occurrence.
        let duplicates = try await store.writer.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE trigger = 'scheduled' GROUP BY source_id, scheduled_for, attempt HAVING count(*) > 1)"
            ) ?? 0
        }
        #expect(duplicates == 0)
        // 3b. A retry only follows a failed attempt of its occurrence.
        let (retries, orphanRetries, timeouts) = try await store.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE attempt > 1") ?? 0,
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM jobs r WHERE r.attempt > 1 AND NOT EXISTS (
                            SELECT 1 FROM jobs p WHERE p.source_id = r.source_id AND p.scheduled_for = r.scheduled_for
                                AND p.attempt = r.attempt - 1 AND p.status = 'failed' AND p.id < r.id)
                        """) ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE tap_description LIKE '%longer than its timeout%'") ?? 0
            )
        }
        #expect(orphanRetries == 0)
        // 4. Every acknowledged change has exactly its event.
        var expected: [SourceEvent.Kind: Int] = [.created: workers * perWorker]
        for log in logs { expected.merge(log.succeeded, uniquingKeysWith: +) }
        let recorded = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM source_events WHERE kind <> 'skipped' GROUP BY kind")
                .map { ($0["kind"] as String, $0["n"] as Int) }
        }
        let recordedByKind = Dictionary(uniqueKeysWithValues: recorded)
        for (kind, count) in expected {
            #expect(recordedByKind[kind.rawValue, default: 0] == count, "events of kind \(kind.rawValue)")
        }
        // Besides the acknowledged changes, only tapline's own system pauses may appear.
        let allowed = Set(expected.keys.map(\.rawValue)).union(["system_paused", "system_unpaused"])
        #expect(Set(recordedByKind.keys).isSubset(of: allowed), "\(recordedByKind)")
        // 5. Nothing is left running, and the file is sound.
        let running = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE status = 'running'") ?? 0
        }
        #expect(running == 0)
        #expect(try await store.integrityCheck() == ["ok"])

        #expect(violations.isEmpty, "\(violations.prefix(20))")
        // The run must have exercised every operation, not just ticked.
        #expect(jobs.filter { $0.trigger == "scheduled" }.count > 300, "scheduled jobs: \(jobs.count)")
        #expect(logs.map(\.manualStarts).reduce(0, +) > 20)
        #expect(retries > 5 && timeouts > 0, "retries \(retries), timeouts \(timeouts)")
        #expect(logs.map(\.stops).reduce(0, +) > 5)
        #expect(expected[.deleted, default: 0] > 0 && expected[.paused, default: 0] > 20 && expected[.updated, default: 0] > 20)
    }

    /// Performs `op` the way the API would, and records what was acknowledged.
    static func perform(
        _ op: Operation, on id: Int64, h: Harness, store: Store, log: inout WorkerLog, rng: inout SplitMix64
    ) async throws {
        guard let source = try await store.source(id: id) else { return }
        let deleted = source.deletedAt != nil
        let open = log.quiet.lastIndex { $0.source == id && $0.before == nil }
        switch op {
        case .pause where !deleted && source.pausedAt == nil:
            // Half the time the scheduler is not told: as when a tick has already taken the source
            // off its queue before the pause commits. The start transaction alone must refuse it.
            try await h.pause(id, notify: Bool.random(using: &rng))
            log.quiet.append((id, try await maxJobID(store), nil))
            log.succeeded[.paused, default: 0] += 1
        case .unpause where !deleted && source.pausedAt != nil:
            if let open { log.quiet[open].before = try await maxJobID(store) }
            try await h.unpause(id)
            log.succeeded[.unpaused, default: 0] += 1
        case .update where !deleted:
            // Alternates between two schedules, so every update really changes the source.
            let every = source.cronExpression == "* * * ? * *" ? "*/2 * * ? * *" : "* * * ? * *"
            var patch = SourcePatch()
            patch.changes = try demoLikeType.validate(properties: ["cron_expression": .string(every)])
            _ = try await store.updateSource(id: id, patch: patch, actor: Actor("test"), now: h.clock.now)
            log.succeeded[.updated, default: 0] += 1
        case .delete where !deleted && Int.random(in: 0..<6, using: &rng) == 0:
            // Half the deletes reach the scheduler only through the start transaction's re-check.
            let announce = Bool.random(using: &rng)
            _ = try await h.silently(unless: announce) { try await store.deleteSource(id: id, actor: Actor("test"), now: h.clock.now) }
            if open == nil { log.quiet.append((id, try await maxJobID(store), nil)) }
            log.succeeded[.deleted, default: 0] += 1
        case .manualStart:
            let name = JobName.make(clientID: 1, sourceID: id, at: h.clock.now)
            if case .started(let job, let source) = try await store.startManualJob(sourceID: id, now: h.clock.now, jobName: name) {
                h.runner.startInBackground(job, source: source)
                log.manualStarts += 1
                log.succeeded[.manualStart, default: 0] += 1
            }
        case .stop:
            if h.runner.stop(sourceID: id) { log.stops += 1 }
            // A stopped pipeline ends as a process killed by SIGTERM would.
            for index in h.launcher.unexited(sourceID: id) where !h.launcher.all[index].pipeline.received.isEmpty {
                h.launcher.exit(index, tap: .signaled(15), target: .signaled(15))
            }
        case .exitJob:
            for index in h.launcher.unexited(sourceID: id) { h.launcher.exit(index) }
        default:
            break
        }
    }
}
