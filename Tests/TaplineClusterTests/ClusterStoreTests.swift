import Foundation
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// What the shared suites (`Store: sources`, `Store: announcements`) cannot show with one
/// store: several nodes, each with its own pool and change feed, on one database.
@Suite("Cluster: sources shared by nodes", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterStoreTests {
    static let type = SourceType(
        type: "platform.test", displayName: "Test",
        properties: [PropertySpec(name: "host", isRequired: true), PropertySpec(name: "password", isCredential: true)],
        defaultFrequencyMinutes: 1, allowedFrequencies: [1, 30, 60], tapCommand: ["tap-test"])
    static let catalog = SourceTypeCatalog([type])
    static let actor = Actor("alice")

    static func new(_ displayName: String, _ properties: [String: JSONValue] = ["host": .string("db")]) throws -> NewSource {
        NewSource(
            type: type.type, displayName: displayName, name: SourceName.derive(fromDisplayName: displayName), nameWasDerived: true,
            changes: try type.validate(properties: properties), destinationID: nil)
    }

    @Test("a change written on one node is announced on the others: edits with the record, a claim with its due time alone")
    func crossNodeAnnouncements() async throws {
        try await withClusterStore(catalog: Self.catalog) { first, database in
            try await withNodeStore(on: database.location, catalog: Self.catalog) { second in
                let heard = ChangeLog()
                second.observe(heard)
                let created = try await first.createSource(try Self.new("Shop"), actor: Self.actor, now: Date())
                #expect(await heard.waitForCommits(1))
                #expect(heard.changes == [SourceChange(sourceID: created.id, due: created.nextFireAt, edited: created)])
                heard.clear()

                // A claim on the first node (a job's start moves the due time) reaches the second.
                try await first.createInitialDestination(type: "jsonl", properties: [:], credentials: [:], now: Date())
                try await first.joinForTests(ClusterMembership(database: database), name: "n1")
                let due = try #require(created.nextFireAt)
                let batch = try await first.claimScheduledStarts([(created.id, due)], now: due, jobName: { "job-\($0)" })
                guard case .started(_, _, let next) = batch[0] else {
                    Issue.record("not started: \(batch[0])")
                    return
                }
                #expect(await heard.waitForCommits(1))
                #expect(heard.changes == [SourceChange(sourceID: created.id, due: next.map(ClusterTime.millis))])
                heard.clear()

                let paused = try await second.updateSource(
                    id: created.id,
                    patch: {
                        var p = SourcePatch()
                        p.pause = .pause(shownAs: Date())
                        return p
                    }(), actor: Self.actor,
                    now: Date())
                #expect(await heard.waitForCommits(1))
                #expect(heard.changes == [SourceChange(sourceID: created.id, due: nil, edited: paused)])
                #expect(try await first.source(id: created.id) == paused, "every node reads every committed write")
            }
        }
    }

    @Test("nodes creating the same name at once: one source, every other create a clear InvalidName")
    func concurrentCreates() async throws {
        try await withClusterStore(catalog: Self.catalog) { first, database in
            try await withNodeStore(on: database.location, catalog: Self.catalog) { second in
                for round in 0..<10 {
                    let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                        for index in 0..<6 {
                            let store = index.isMultiple(of: 2) ? first : second
                            group.addTask {
                                do {
                                    _ = try await store.createSource(try Self.new("Same \(round)"), actor: Self.actor, now: Date())
                                    return "created"
                                } catch let error as SourceError {
                                    return "\(error)"
                                }
                            }
                        }
                        var all: [String] = []
                        for try await outcome in group { all.append(outcome) }
                        return all
                    }
                    #expect(outcomes.filter { $0 == "created" }.count == 1, "round \(round): \(outcomes)")
                    #expect(
                        outcomes.filter { $0 != "created" }.allSatisfy { $0.contains("non-unique name") }, "round \(round): \(outcomes)")
                }
                #expect(try await first.allSources().count == 10)
            }
        }
    }

    @Test("a change no notification told of is announced by the next reconcile")
    func reconcileCatchesMissedChanges() async throws {
        let server = try PostgresServer.shared.get()
        try await withClusterDatabase { database in
            try await withNodeStore(on: database.location, catalog: Self.catalog, reconcileInterval: .milliseconds(200)) { store in
                let created = try await store.createSource(try Self.new("Quiet"), actor: Self.actor, now: Date())
                let heard = ChangeLog()
                store.observe(heard)
                // A write that sends no notification: the trigger is off for this one statement's
                // transaction (as a notification lost with a connection would be).
                try server.superuser(
                    on: database.location.database,
                    """
                    BEGIN;
                    ALTER TABLE sources DISABLE TRIGGER sources_announce_update;
                    UPDATE sources SET paused_at = now(), next_fire_at = NULL WHERE id = \(created.id);
                    ALTER TABLE sources ENABLE TRIGGER sources_announce_update;
                    COMMIT;
                    """)
                let deadline = ContinuousClock.now + .seconds(5)
                while !heard.changes.contains(SourceChange(sourceID: created.id, due: nil)), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(heard.changes.contains(SourceChange(sourceID: created.id, due: nil)))
            }
        }
    }

    @Test("the change feed reconnects after its connection is killed, and hears changes again")
    func feedReconnects() async throws {
        let server = try PostgresServer.shared.get()
        try await withClusterStore(catalog: Self.catalog) { store, database in
            let created = try await store.createSource(try Self.new("Loud"), actor: Self.actor, now: Date())
            let heard = ChangeLog()
            store.observe(heard)
            #expect(store.listenSessions == 1)
            try server.superuser(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database.location.database)' AND pid <> pg_backend_pid()"
            )
            let deadline = ContinuousClock.now + .seconds(10)
            while store.listenSessions < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(store.listenSessions == 2)
            heard.clear()
            // The pool reconnects too: the write goes through, and the new session announces it.
            let paused = try await store.updateSource(
                id: created.id,
                patch: {
                    var p = SourcePatch()
                    p.pause = .pause(shownAs: Date())
                    return p
                }(), actor: Self.actor,
                now: Date())
            let heardPause = { heard.changes.contains(SourceChange(sourceID: created.id, due: nil, edited: paused)) }
            // A deadline of its own: the reconnection may have used most of the first one.
            let heardBy = ContinuousClock.now + .seconds(10)
            while !heardPause(), ContinuousClock.now < heardBy { try await Task.sleep(for: .milliseconds(10)) }
            #expect(heardPause())
        }
    }

    @Test("credentials are sealed at rest and opened with the key; another key is refused with a clear error")
    func sealedCredentials() async throws {
        let key = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        let other = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        try await withClusterDatabase { database in
            try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: key) { store in
                let created = try await store.createSource(
                    try Self.new("Secret", ["host": .string("db"), "password": .string("hunter2")]), actor: Self.actor, now: Date())
                #expect(created.credentials == ["password": "hunter2"])
                var stored: [String] = []
                for try await text in try await database.client.query("SELECT credentials FROM sources").decode(String.self) {
                    stored.append(text)
                }
                #expect(stored.count == 1 && !stored[0].contains("hunter2") && stored[0].contains("tapline_sealed"))
            }
            _ = try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: other) { store in
                await #expect(throws: CredentialKeyError.self) { _ = try await store.allSources() }
            }
        }
    }

    @Test("rotate-key on a cluster: refused while a node serves; then every row and the recorded key move at once")
    func rotateKey() async throws {
        let key = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        let next = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        let stranger = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        try await withClusterDatabase { database in
            let membership = ClusterMembership(database: database)
            let sealedBefore = try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: key) { store in
                try await store.adoptCredentialsKey(key.keyID, node: "n1")
                for name in ["A", "B"] {
                    _ = try await store.createSource(
                        try Self.new(name, ["host": .string("db"), "password": .string("pw-\(name)")]), actor: Self.actor, now: Date())
                }
                _ = try await store.createSource(try Self.new("Plain"), actor: Self.actor, now: Date())
                try await store.createInitialDestination(type: "jsonl", properties: [:], credentials: ["token": "t0ken"], now: Date())
                try await store.joinForTests(membership, name: "n1")
                return try await Self.storedCredentials(database)
            }
            await #expect(throws: ClusterKeyError.self) {
                _ = try await ClusterStore.resealCredentials(in: database, current: key, next: next)
            }
            #expect(try await Self.storedCredentials(database) == sealedBefore, "a refused rotation changes nothing")
            _ = try await database.client.query("UPDATE nodes SET left_at = now()")
            await #expect(throws: ClusterKeyError.otherKey(node: stranger.keyID, cluster: key.keyID, setBy: "n1")) {
                _ = try await ClusterStore.resealCredentials(in: database, current: stranger, next: next)
            }
            #expect(try await ClusterStore.resealCredentials(in: database, current: key, next: next) == 3)
            #expect(try await ClusterStore.credentialsKeyIDs(in: database) == [next.keyID])
            try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: next) { store in
                try await store.adoptCredentialsKey(next.keyID, node: "n2")
                #expect(try await store.allSources().map(\.credentials) == [["password": "pw-A"], ["password": "pw-B"], [:]])
                #expect(try await store.destinations().first?.credentials == ["token": "t0ken"])
                await #expect(throws: ClusterKeyError.self) { try await store.adoptCredentialsKey(key.keyID, node: "n1") }
            }
        }
    }

    static func storedCredentials(_ database: ClusterDatabase) async throws -> [String] {
        var stored: [String] = []
        for try await text in try await database.client.query(
            "SELECT credentials FROM sources UNION ALL SELECT credentials FROM destinations ORDER BY 1"
        ).decode(String.self) {
            stored.append(text)
        }
        return stored
    }

    @Test("the first node records the cluster's credentials key; a node with another key is refused, naming both ids")
    func oneKeyPerCluster() async throws {
        let key = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        let other = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        try await withClusterDatabase { database in
            #expect(try await ClusterStore.credentialsKeyIDs(in: database).isEmpty)
            try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: key) { store in
                try await store.adoptCredentialsKey(key.keyID, node: "n1")
                try await store.adoptCredentialsKey(key.keyID, node: "n2")  // the same key again: fine
                _ = try await store.createSource(
                    try Self.new("Secret", ["host": .string("db"), "password": .string("hunter2")]), actor: Self.actor, now: Date())
                await #expect(throws: ClusterKeyError.otherKey(node: other.keyID, cluster: key.keyID, setBy: "n1")) {
                    try await store.adoptCredentialsKey(other.keyID, node: "n3")
                }
            }
            #expect(try await ClusterStore.credentialsKeyIDs(in: database) == [key.keyID])
            // Rows sealed with a key the settings do not name (written before the key was recorded).
            _ = try await database.client.query("DELETE FROM cluster_settings")
            _ = try await withNodeStore(on: database.location, catalog: Self.catalog, cipher: other) { store in
                await #expect(throws: ClusterKeyError.sealedWithOtherKey(node: other.keyID, found: key.keyID)) {
                    try await store.adoptCredentialsKey(other.keyID, node: "n3")
                }
            }
            // The refused adoption wrote nothing: the rows' key is still the only one known.
            #expect(try await ClusterStore.credentialsKeyIDs(in: database) == [key.keyID])
        }
    }

    @Test("an instant written at a whole millisecond reads back as that millisecond (postgres-nio truncates to microseconds)")
    func millisecondRoundTrip() async throws {
        try await withClusterDatabase { database in
            var raw = 0
            for ms in 0..<1000 {
                let text = String(format: "2026-12-03T06:06:27.%03dZ", ms)
                let written = try #require(Timestamp.parse(text))
                for try await back in try await database.client.query("SELECT \(written)::timestamptz").decode(Date.self) {
                    if Timestamp.formatMilliseconds(back) != text { raw += 1 }
                    #expect(Timestamp.formatMilliseconds(ClusterTime.read(back)) == text)
                    #expect(ClusterTime.read(back) == ClusterTime.millis(written))
                }
            }
            // Why reads snap: without it, some of these come back a millisecond early.
            #expect(raw > 0)
        }
    }

}
