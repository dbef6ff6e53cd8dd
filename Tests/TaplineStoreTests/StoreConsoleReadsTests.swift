import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The console's reads and audited requests, one suite for every backend: the list's rows keep
/// "running now" apart from the last result, the jobs' fingerprint moves with every start and
/// end, requests land in the audit trail, a pause's reason is kept with its event.
@Suite("Store: the console's reads")
struct StoreConsoleReadsTests {
    @Test("overviews: running apart from the last result, last success and failure, deleted left out", arguments: StoreBackend.available)
    func overviews(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let a = try await store.createSource(try newSource("Alpha"), actor: alice, now: t0)
            let b = try await store.createSource(try newSource("Beta"), actor: alice, now: t0)
            let gone = try await store.createSource(try newSource("Gone"), actor: alice, now: t0)
            _ = try await store.deleteSource(id: gone.id, actor: alice, now: t0)
            let before = try await store.jobActivity()

            // Alpha: a success, then a failure, then a run now.
            func run(_ name: String, at: Date, ending status: JobStatus?) async throws -> Int64 {
                guard case .started(let job, _) = try await store.startManualJob(sourceID: a.id, now: at, jobName: name) else {
                    throw StoreError.corruptValue("no start")
                }
                if let status {
                    try await store.recordCompletions(
                        [
                            (
                                job.id,
                                JobOutcome(
                                    status: status, completedAt: at.addingTimeInterval(2), tapExitStatus: status == .failed ? 1 : 0,
                                    targetExitStatus: 0)
                            )
                        ],
                        policy: CompletionPolicy())
                }
                return job.id
            }
            _ = try await run("j1", at: t0.addingTimeInterval(10), ending: .succeeded)
            _ = try await run("j2", at: t0.addingTimeInterval(20), ending: .failed)
            let started = try await store.jobActivity()
            #expect(started != before)
            _ = try await run("j3", at: t0.addingTimeInterval(30), ending: nil)
            #expect(try await store.jobActivity() != started, "a start moves the fingerprint")

            var patch = SourcePatch()
            patch.pause = .pause(shownAs: t0.addingTimeInterval(40))
            patch.reason = "warehouse maintenance"
            _ = try await store.updateSource(id: b.id, patch: patch, actor: Actor("ops"), now: t0.addingTimeInterval(40))

            let rows = try await store.sourceOverviews()
            #expect(rows.map(\.id) == [a.id, b.id])
            let alpha = try #require(rows.first)
            #expect(alpha.running?.name == "j3" && alpha.running?.status == .running)
            #expect(alpha.last?.name == "j2" && alpha.last?.status == .failed && alpha.last?.tapExitStatus == 1)
            #expect(alpha.lastSuccessAt == t0.addingTimeInterval(12))
            #expect(alpha.lastFailureAt == t0.addingTimeInterval(22))
            #expect(alpha.nextFireAt != nil && alpha.pausedAt == nil)
            let beta = rows[1]
            #expect(beta.pausedAt != nil && beta.nextFireAt == nil && beta.running == nil && beta.last == nil)

            let paused = try #require(try await store.events(sourceID: b.id).last)
            #expect(paused.kind == .paused && paused.actor == "ops" && paused.reason == "warehouse maintenance")

            try await store.recordRequest(
                sourceID: a.id, kind: .manualStart, actor: Actor("ops"), reason: "backfill", detail: "j3", now: t0.addingTimeInterval(50))
            try await store.recordRequest(
                sourceID: a.id, kind: .stopRequested, actor: Actor("ops"), reason: nil, detail: "j3", now: t0.addingTimeInterval(51))
            let trail = try await store.events(sourceID: a.id).suffix(2)
            #expect(trail.map(\.kind) == [.manualStart, .stopRequested])
            #expect(trail.first?.reason == "backfill" && trail.first?.detail == "j3" && trail.first?.actor == "ops")
            #expect(try await store.recentDeliveries(limit: 10).isEmpty, "no webhook configured, no delivery")
        }
    }
}

/// The audit trail's table is rebuilt to take the request kinds: a database from before keeps
/// every event, its ids and its append-only rules.
@Suite("Store: the audit trail's rebuild")
struct StoreAuditRebuildTests {
    @Test("a v9 database keeps its events, ids and triggers through v10")
    func rebuildKeepsEvents() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tapline.db"
        do {
            let old = try Store.open(path: path, catalog: testCatalog)
            let source = try await old.createSource(try newSource("Old"), actor: alice, now: t0)
            var pause = SourcePatch()
            pause.pause = .pause(shownAs: t0)
            _ = try await old.updateSource(id: source.id, patch: pause, actor: alice, now: t0)
        }
        // Roll the file back to v9's table (as an older tapline left it), then open it again.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v10:%'")
            try db.execute(
                sql: """
                    CREATE TABLE events_v9 AS SELECT * FROM source_events;
                    DROP TABLE source_events;
                    CREATE TABLE source_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, source_id INTEGER NOT NULL REFERENCES sources(id), at TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'paused', 'unpaused', 'system_paused', 'system_unpaused', 'deleted', 'skipped')),
                        actor TEXT NOT NULL CHECK (length(actor) > 0), reason TEXT, detail TEXT);
                    INSERT INTO source_events SELECT * FROM events_v9;
                    DROP TABLE events_v9;
                    """)
        }
        try queue.close()
        let store = try Store.open(path: path, catalog: testCatalog)
        let events = try await store.events(sourceID: 1)
        #expect(events.map(\.kind) == [.created, .paused])
        #expect(events.map(\.id) == [1, 2])
        try await store.recordRequest(sourceID: 1, kind: .manualStart, actor: alice, reason: nil, detail: "j", now: t0)
        #expect(try await store.events(sourceID: 1).map(\.id) == [1, 2, 3])
        let raw = try DatabaseQueue(path: path)
        #expect(throws: (any Error).self, "still append-only") {
            try raw.write { db in try db.execute(sql: "DELETE FROM source_events WHERE id = 1") }
        }
        #expect(throws: (any Error).self, "an unknown kind is still refused") {
            try raw.write { db in
                try db.execute(sql: "INSERT INTO source_events (source_id, at, kind, actor) VALUES (1, 'x', 'bogus', 'a')")
            }
        }
    }
}
