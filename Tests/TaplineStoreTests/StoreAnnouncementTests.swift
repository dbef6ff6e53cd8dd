import Foundation
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

@Suite("Store: announcements")
struct StoreAnnouncementTests {
    @Test(
        "create, update, pause, unpause and delete each announce one change with the committed due time",
        arguments: StoreBackend.available)
    func apiWrites(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let heard = ChangeLog()
            store.observe(heard)
            let source = try await store.createSource(
                try newSource("a", properties: ["host": .string("h"), "cron_expression": .string("0 * * ? * *")]), actor: alice, now: t0)
            #expect(await heard.waitForCommits(1))
            #expect(heard.commits.count == 1)
            #expect(heard.changes == [SourceChange(sourceID: source.id, due: source.nextFireAt, edited: source)])
            heard.clear()
            let paused = try await store.updateSource(id: source.id, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0)
            #expect(await heard.waitForCommits(1))
            #expect(heard.changes.map(\.due) == [nil] && heard.changes.first?.edited == paused)
            heard.clear()
            let unpaused = try await store.updateSource(id: source.id, patch: patch { $0.pause = .unpause }, actor: alice, now: t0)
            #expect(await heard.waitForCommits(1))
            #expect(unpaused.nextFireAt != nil && heard.changes.map(\.due) == [unpaused.nextFireAt])
            heard.clear()
            _ = try await store.deleteSource(id: source.id, actor: alice, now: t0)
            #expect(await heard.waitForCommits(1))
            #expect(heard.changes.map(\.sourceID) == [source.id] && heard.changes.map(\.due) == [nil])
            #expect(heard.changes.first?.edited == nil, "a delete is not an edit a connection check looks at")
        }
    }

    @Test("a refused write announces nothing", arguments: StoreBackend.available)
    func rollback(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let heard = ChangeLog()
            store.observe(heard)
            let source = try await store.createSource(try newSource("a"), actor: alice, now: t0)
            #expect(await heard.waitForCommits(1))
            heard.clear()
            await #expect(throws: SourceError.self) { try await store.createSource(try newSource("a"), actor: alice, now: t0) }
            // The next commit's announcement is the first one heard: announcements come in
            // commit order, so nothing came of the refused write.
            _ = try await store.systemPause(sourceID: source.id, reason: "test", now: t0)
            #expect(await heard.waitForCommits(1))
            #expect(heard.commits.count == 1 && heard.changes.map(\.sourceID) == [source.id] && heard.changes.map(\.due) == [nil])
        }
    }

    @Test("a claim, a manual start and a system pause announce what they committed; one commit is one announcement")
    func runtimeWrites() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        let a = try await store.createSource(
            try newSource("a", properties: ["host": .string("h"), "cron_expression": .string("* * * ? * *")]), actor: alice, now: t0)
        let b = try await store.createSource(
            try newSource("b", properties: ["host": .string("h"), "cron_expression": .string("* * * ? * *")]), actor: alice, now: t0)
        let heard = ChangeLog()
        store.observe(heard)
        let due = try #require(a.nextFireAt)
        let batch = try store.claimScheduledStarts([(a.id, due), (b.id, due)], now: due, jobName: { "1.\($0).sync.x" })
        #expect(heard.commits.count == 1)
        #expect(Set(heard.changes.map(\.sourceID)) == [a.id, b.id])
        #expect(heard.changes.allSatisfy { $0.due == due.addingTimeInterval(1) && $0.edited == nil })
        #expect(batch.map(\.nextFire) == [due.addingTimeInterval(1), due.addingTimeInterval(1)])
        heard.clear()
        try await store.systemPause(sourceID: a.id, reason: "test", now: due)
        #expect(heard.changes == [SourceChange(sourceID: a.id, due: nil)])
        heard.clear()
        // A manual start of an every-second cron leaves its due time: announced all the same,
        // since it wrote the row.
        _ = try await store.recordCompletions(
            batch.compactMap {
                if case .started(let job, _, _) = $0 { (job.id, JobOutcome(status: .succeeded, completedAt: due)) } else { nil }
            })
        heard.clear()
        guard case .started = try await store.startManualJob(sourceID: b.id, now: due, jobName: "m") else {
            Issue.record("not started")
            return
        }
        #expect(heard.changes.map(\.sourceID) == [b.id] && heard.changes.first?.due == due.addingTimeInterval(1))
    }

    @Test("writes racing from many tasks: the last announcement of each source is its committed due time")
    func commitOrder() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: testCatalog).withTestDestination()
        let heard = ChangeLog()
        store.observe(heard)
        var created: [Int64] = []
        for i in 0..<4 { created.append(try await store.createSource(try newSource("s\(i)"), actor: alice, now: t0).id) }
        let ids = created
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<25 {
                        let id = ids[(task + round) % ids.count]
                        let minutes = [1, 30, 60, 360][(task * 7 + round) % 4]
                        let change =
                            round % 3 == 0
                            ? patch { $0.pause = (task + round) % 2 == 0 ? .pause(shownAs: t0) : .unpause }
                            : try patch { $0.changes = try testType.validate(properties: ["frequency_in_minutes": .string("\(minutes)")]) }
                        _ = try await store.updateSource(id: id, patch: change, actor: alice, now: t0.addingTimeInterval(Double(round)))
                    }
                }
            }
            try await group.waitForAll()
        }
        var last: [Int64: Date?] = [:]
        for change in heard.changes { last[change.sourceID] = change.due }
        for id in ids {
            let stored = try await store.source(id: id)
            #expect(last[id] == .some(stored?.nextFireAt), "source \(id)")
        }
    }
}
