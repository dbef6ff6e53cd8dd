import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The schema holds its invariants for every writer, including a person with `sqlite3`.
@Suite("Store: schema and durability")
struct StoreSchemaTests {
    @Test("on disk: WAL, synchronous=FULL, foreign keys, and data survives reopening")
    func durability() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tapline.db"
        do {
            let store = try Store.open(path: path, catalog: testCatalog).withTestDestination()
            #expect(try await store.pragma("journal_mode") == "wal")
            #expect(try await store.pragma("synchronous") == "2")
            // The connection that commits is the one whose setting makes a write durable.
            #expect(try await store.writerPragma("synchronous") == "2")
            #expect(try await store.pragma("foreign_keys") == "1")
            _ = try await store.createSource(try newSource("Kept"), actor: alice, now: t0)
        }
        let reopened = try Store.open(path: path, catalog: testCatalog).withTestDestination()
        #expect(try await reopened.allSources().map(\.name) == ["kept"])
        #expect(try await reopened.integrityCheck() == ["ok"])
    }

    func rejects(_ store: Store, _ sql: String) async {
        await #expect(throws: DatabaseError.self, "\(sql)") {
            try await store.writer.write { db in try db.execute(sql: sql) }
        }
    }

    @Test("CHECK, UNIQUE and partial unique indexes refuse bad rows")
    func invariants() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        _ = try await store.createSource(try newSource("S"), actor: alice, now: t0)
        let now = "'2026-11-29T10:00:00Z'"
        await rejects(store, "UPDATE sources SET frequency_in_minutes = 45")
        await rejects(store, "UPDATE sources SET name = 'Bad Name'")
        await rejects(store, "UPDATE sources SET name = '9lives'")
        await rejects(store, "UPDATE sources SET properties = 'not json'")
        await rejects(store, "UPDATE sources SET paused_at = \(now)")  // next_fire_at is still set
        await rejects(store, "UPDATE sources SET system_paused_at = \(now), next_fire_at = NULL")  // no reason
        await rejects(
            store, "INSERT INTO sources (name, display_name, type, created_at, updated_at) VALUES ('s', 'x', 't', \(now), \(now))")
        await rejects(store, "INSERT INTO source_events (source_id, at, kind, actor) VALUES (1, \(now), 'exploded', 'me')")
        await rejects(store, "INSERT INTO source_events (source_id, at, kind, actor) VALUES (99, \(now), 'paused', 'me')")
        await rejects(store, "UPDATE source_events SET actor = 'someone else'")
        await rejects(store, "DELETE FROM source_events")
        let job = "INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, status, started_at)"
        try await store.writer.write { db in
            try db.execute(sql: "\(job) VALUES ('a', 1, 'scheduled', \(now), 'running', \(now))")
        }
        await rejects(store, "\(job) VALUES ('b', 1, 'manual', NULL, 'running', \(now))")  // second running job
        await rejects(store, "\(job) VALUES ('c', 1, 'scheduled', \(now), 'failed', \(now))")  // same occurrence twice
        await rejects(store, "\(job) VALUES ('d', 1, 'manual', \(now), 'failed', \(now))")  // manual with scheduled_for
        await rejects(store, "\(job) VALUES ('e', 1, 'scheduled', NULL, 'failed', \(now))")  // scheduled without it
        await rejects(store, "UPDATE jobs SET status = 'succeeded'")  // ended without completed_at
    }

    @Test("the source_status view answers the operator's first question")
    func statusView() async throws {
        let store = try Store.inMemory(catalog: testCatalog).withTestDestination()
        _ = try await store.createSource(try newSource("A"), actor: alice, now: t0)
        _ = try await store.createSource(try newSource("B"), actor: alice, now: t0)
        _ = try await store.createSource(try newSource("C"), actor: alice, now: t0)
        _ = try await store.updateSource(id: 2, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0)
        _ = try await store.deleteSource(id: 3, actor: alice, now: t0)
        let rows = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, status, next_fire_at FROM source_status ORDER BY id")
        }
        #expect(rows.map { $0["status"] as String } == ["active", "paused", "deleted"])
        #expect(rows[0]["next_fire_at"] as String? == "2026-11-29T10:00:00.000Z")
        #expect(rows[1]["next_fire_at"] as String? == nil)
    }
}

@Suite("Store: migrations")
struct StoreMigrationTests {
    @Test("v6 turns a stored Stitch-shaped error_state into the facts it was made of; the API shape is unchanged")
    func loadFailureFacts() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tapline.db"
        do {
            let queue = try DatabaseQueue(path: path)
            try Store.migrator.migrate(queue, upTo: "v5: history retention")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO sources (id, name, display_name, type, created_at, updated_at)
                        VALUES (1, 'shop', 'shop', 'platform.test', '2026-11-29T10:00:00Z', '2026-11-29T10:00:00Z');
                        INSERT INTO stream_loads (source_id, stream_name, error_state, records, job_name, updated_at) VALUES
                          (1, 'orders', '{"notification_data":{"error":"TARGET_ERROR","exception_message":"target exited with status 3","message":"disk full","status":"ERROR","warehouse_message":"disk full"}}', 0, 'j', '2026-11-29T10:00:00.000Z'),
                          (1, 'users', NULL, 5, 'j', '2026-11-29T10:00:00.000Z');
                        """)
            }
        }
        let store = try Store.open(path: path, catalog: testCatalog)
        let loads = try await store.loads(since: t0.addingTimeInterval(-3600), page: 1, perPage: 10).loads
        #expect(loads.map(\.streamName) == ["orders", "users"])
        #expect(loads[0].failure == LoadFailure(message: "disk full", targetExitStatus: 3))
        #expect(loads[1].failure == nil)
    }
}
