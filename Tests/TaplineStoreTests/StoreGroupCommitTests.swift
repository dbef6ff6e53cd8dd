import Foundation
import GRDB
import Testing
import TaplineCore
import TaplineTestSupport

@testable import TaplineStore

@Suite("Store: group commit")
struct StoreGroupCommitTests {
    @Test("writes that arrive together commit together; a refused one rolls back alone and the rest are acknowledged")
    func refusedWriteAlone() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: testCatalog).withTestDestination()
        let names = (0..<40).map { "s\($0)" } + ["s7", "s21"]  // two clashes
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for name in names {
                group.addTask { (name, (try? await store.createSource(try newSource(name), actor: alice, now: t0)) != nil) }
            }
            return await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }
        #expect(outcomes.filter(\.1).count == 40)
        #expect(outcomes.filter { !$0.1 }.map(\.0).sorted() == ["s21", "s7"])
        let rows = try await store.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM sources") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM source_events WHERE kind = 'created'") ?? 0)
        }
        #expect(rows.0 == 40 && rows.1 == 40, "a refused create leaves neither its row nor its event")
    }

    @Test("when the transaction cannot begin (another process holds the lock), every write in it fails and none commits")
    func lockedDatabase() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: testCatalog, busyTimeout: 0.2).withTestDestination()
        // Another process: a plain SQLite connection holding the write lock.
        let outside = try DatabaseQueue(path: dir + "/t.db")
        let held = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread {
            try? outside.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                held.signal()
                release.wait()
                try db.execute(sql: "ROLLBACK")
            }
        }.start()
        held.wait()
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<5 {
                group.addTask { (try? await store.createSource(try newSource("s\(i)"), actor: alice, now: t0)) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        release.signal()
        #expect(results == [false, false, false, false, false])
        #expect(try await store.allSources().isEmpty)
    }
}
