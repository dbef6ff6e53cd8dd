import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineStore

/// The store's source operations, one suite for every backend: SQLite in memory and in a real
/// file, and PostgreSQL (a private server, when installed) through `ClusterStore`.
@Suite("Store: sources")
struct StoreSourcesTests {
    @Test("a system pause keeps the first time and reason, and never touches a deleted source", arguments: StoreBackend.available)
    func systemPauseGuard(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let live = try await store.createSource(try newSource("Live"), actor: alice, now: t0)
            let gone = try await store.createSource(try newSource("Gone"), actor: alice, now: t0)
            _ = try await store.deleteSource(id: gone.id, actor: alice, now: t0)
            let later = t0.addingTimeInterval(60)

            let paused = try await store.systemPause(sourceID: live.id, reason: "first", now: later)
            #expect(paused?.systemPausedAt == later)
            #expect(paused?.systemPauseReason == "first")
            #expect(paused?.nextFireAt == nil)
            let again = try await store.systemPause(sourceID: live.id, reason: "second", now: later.addingTimeInterval(60))
            #expect(again?.systemPausedAt == later)
            #expect(again?.systemPauseReason == "first")

            let untouched = try await store.systemPause(sourceID: gone.id, reason: "no", now: later)
            #expect(untouched?.systemPausedAt == nil)
            #expect(untouched?.deletedAt != nil)
            #expect(try await store.events(sourceID: gone.id).map(\.kind) == [.created, .deleted])
            #expect(try await store.events(sourceID: live.id).filter { $0.kind == .systemPaused }.map(\.reason) == ["first"])
            #expect(try await store.systemPause(sourceID: 999, reason: "none", now: later) == nil)
        }
    }

    @Test("create keeps credentials apart and schedules a plain interval at once", arguments: StoreBackend.available)
    func create(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(
                try newSource(
                    "My Shop", properties: ["host": .string("db"), "password": .string("pw"), "frequency_in_minutes": .string("30")]),
                actor: alice, now: t0)
            #expect(source.id == 1)
            #expect(source.name == "my_shop")
            #expect(source.properties == ["host": "db"])
            #expect(source.credentials == ["password": "pw"])
            #expect(source.frequencyMinutes == 30)
            #expect(source.nextFireAt == t0)
            #expect(source.createdAt == t0 && source.updatedAt == t0)
            let events = try await store.events(sourceID: source.id)
            #expect(events.map(\.kind) == [.created])
            #expect(events.first?.actor == "alice")
        }
    }

    @Test("a source missing required properties has no schedule until it gets them", arguments: StoreBackend.available)
    func notConfigured(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(try newSource("Bare", properties: [:]), actor: alice, now: t0)
            #expect(source.nextFireAt == nil)
            let later = t0.addingTimeInterval(60)
            let configured = try await store.updateSource(
                id: source.id, patch: try patch { $0.changes = try testType.validate(properties: ["host": .string("h")]) },
                actor: alice, now: later)
            #expect(configured.nextFireAt == later)
        }
    }

    @Test("names: display name, derived name and given name must be unique; deleted sources keep theirs", arguments: StoreBackend.available)
    func uniqueness(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            _ = try await store.createSource(try newSource("My Shop"), actor: alice, now: t0)
            await #expect(throws: SourceError.invalidName("non-unique name (My Shop)")) {
                try await store.createSource(try newSource("My Shop"), actor: alice, now: t0)
            }
            await #expect(throws: SourceError.invalidName("non-unique name after deriving it from display_name (my shop -> my_shop)")) {
                try await store.createSource(try newSource("my shop"), actor: alice, now: t0)
            }
            await #expect(throws: SourceError.invalidName("non-unique name (my_shop)")) {
                try await store.createSource(try newSource("Other", name: "my_shop"), actor: alice, now: t0)
            }
            _ = try await store.deleteSource(id: 1, actor: alice, now: t0)
            // The display name is free again, but the schema name stays reserved.
            await #expect(throws: SourceError.invalidName("non-unique name after deriving it from display_name (My Shop -> my_shop)")) {
                try await store.createSource(try newSource("My Shop"), actor: alice, now: t0)
            }
            #expect(try await store.allSources().count == 1)
        }
    }

    @Test("pause clears the next fire time at once; unpause skips what fell in the pause", arguments: StoreBackend.available)
    func pauseAndUnpause(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(try newSource("S"), actor: alice, now: t0)
            let shown = Timestamp.parse("2019-06-01T00:00:00Z")!
            let paused = try await store.updateSource(
                id: source.id, patch: patch { $0.pause = .pause(shownAs: shown) }, actor: alice, now: t0.addingTimeInterval(5))
            #expect(paused.pausedAt == shown)
            #expect(paused.nextFireAt == nil)
            // Pausing again changes the shown value but records no second event.
            _ = try await store.updateSource(
                id: source.id, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0.addingTimeInterval(6))
            let unpauseAt = t0.addingTimeInterval(3 * 3600 + 10)
            let active = try await store.updateSource(id: source.id, patch: patch { $0.pause = .unpause }, actor: alice, now: unpauseAt)
            #expect(active.pausedAt == nil)
            // Never ran: counted from creation at 10:00 with 60 minutes; 11, 12 and 13:00 were skipped.
            #expect(active.nextFireAt == Timestamp.parse("2026-11-29T14:00:00Z"))
            let kinds = try await store.events(sourceID: source.id).map(\.kind)
            #expect(kinds == [.created, .paused, .unpaused])
        }
    }

    @Test("properties merge key by key; removing an optional one works; schedule edits recompute", arguments: StoreBackend.available)
    func merge(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(
                try newSource("S", properties: ["host": .string("db"), "password": .string("pw")]), actor: alice, now: t0)
            let later = t0.addingTimeInterval(120)
            let updated = try await store.updateSource(
                id: source.id,
                patch: try patch {
                    $0.displayName = "Renamed"
                    $0.changes = try testType.validate(properties: ["password": .null, "cron_expression": .string("0 0 12 ? * *")])
                }, actor: alice, now: later)
            #expect(updated.displayName == "Renamed")
            #expect(updated.name == "s")
            #expect(updated.properties == ["host": "db"])
            #expect(updated.credentials.isEmpty)
            #expect(updated.cronExpression == "0 0 12 ? * *")
            #expect(updated.nextFireAt == Timestamp.parse("2026-11-29T12:00:00Z"))
            #expect(updated.updatedAt == later)
            let last = try await store.events(sourceID: source.id).last
            #expect(last?.kind == .updated)
            #expect(last?.detail == "display_name,cron_expression,password")
        }
    }

    @Test("an empty patch changes nothing, not even updated_at", arguments: StoreBackend.available)
    func emptyPatch(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(try newSource("S"), actor: alice, now: t0)
            let same = try await store.updateSource(id: source.id, patch: SourcePatch(), actor: alice, now: t0.addingTimeInterval(99))
            #expect(same == source)
            #expect(try await store.events(sourceID: source.id).count == 1)
        }
    }

    @Test("system pause blocks scheduling; clearing it is an event; it survives a user unpause", arguments: StoreBackend.available)
    func systemPause(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(try newSource("S"), actor: alice, now: t0)
            let paused = try await store.systemPause(sourceID: source.id, reason: "5 consecutive scheduled jobs failed", now: t0)
            #expect(paused?.systemPausedAt == t0)
            #expect(paused?.nextFireAt == nil)
            let stillPaused = try await store.updateSource(id: source.id, patch: patch { $0.pause = .unpause }, actor: alice, now: t0)
            #expect(stillPaused.systemPausedAt != nil && stillPaused.nextFireAt == nil)
            let later = t0.addingTimeInterval(90 * 60)
            let cleared = try await store.updateSource(id: source.id, patch: patch { $0.clearSystemPause = true }, actor: alice, now: later)
            #expect(cleared.systemPausedAt == nil && cleared.systemPauseReason == nil)
            #expect(cleared.nextFireAt == Timestamp.parse("2026-11-29T12:00:00Z"))
            let events = try await store.events(sourceID: source.id)
            #expect(events.map(\.kind) == [.created, .systemPaused, .systemUnpaused])
            #expect(events[1].actor == "system" && events[1].reason == "5 consecutive scheduled jobs failed")
        }
    }

    @Test("delete is soft and idempotent; a deleted source cannot be changed; unknown ids are InvalidId", arguments: StoreBackend.available)
    func delete(kind: StoreBackend) async throws {
        try await kind.withStore(catalog: testCatalog) { store in
            let source = try await store.createSource(try newSource("S"), actor: alice, now: t0)
            let deleted = try await store.deleteSource(id: source.id, actor: alice, now: t0.addingTimeInterval(1))
            #expect(deleted.deletedAt == t0.addingTimeInterval(1))
            #expect(deleted.nextFireAt == nil)
            let again = try await store.deleteSource(id: source.id, actor: alice, now: t0.addingTimeInterval(2))
            #expect(again == deleted)
            await #expect(throws: SourceError.deleted(source.id)) {
                try await store.updateSource(id: source.id, patch: patch { $0.displayName = "x" }, actor: alice, now: t0)
            }
            await #expect(throws: SourceError.invalidID(42)) {
                try await store.updateSource(id: 42, patch: SourcePatch(), actor: alice, now: t0)
            }
            await #expect(throws: SourceError.invalidID(42)) { try await store.deleteSource(id: 42, actor: alice, now: t0) }
            #expect(try await store.source(id: source.id)?.deletedAt != nil)
            #expect(try await store.events(sourceID: source.id).map(\.kind) == [.created, .deleted])
        }
    }
}
