import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster
@testable import TaplineStore

/// `tapline store migrate`: a single node's SQLite database moved into an empty PostgreSQL
/// database answers every read the API serves as the single node would after its next start.
@Suite("Store: a single node moved into a cluster", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct StoreMoveToClusterTests {
    static let catalog = SourceTypeCatalog([testType, StoreStreamsTests.discoveryType])
    static let key = try! CredentialCipher(keyBytes: Array(repeating: 9, count: 32))
    static let moved = t0.addingTimeInterval(100.25)

    /// Everything the API reads of a store, source by source.
    struct Reads: Equatable {
        var sources: [SourceRecord] = []
        var events: [[SourceEvent]] = []
        var jobs: [[JobRecord]] = []
        var states: [String?] = []
        var streams: [[StreamRecord]] = []
        var checks: [ConnectionCheck?] = []
        var catalogs: [String?] = []
        var loads: [StreamLoad] = []
        var extractions: [JobRecord] = []

        init(_ store: any APIStore) async throws {
            sources = try await store.allSources()
            for source in sources {
                events.append(try await store.events(sourceID: source.id))
                jobs.append(try await store.jobs(sourceID: source.id, page: 1, perPage: 100, filter: JobFilter()).jobs)
                states.append(try await store.state(sourceID: source.id))
                streams.append(try await store.streams(sourceID: source.id))
                checks.append(try await store.lastConnectionCheck(sourceID: source.id))
                catalogs.append(try await store.selectedCatalog(sourceID: source.id))
            }
            loads = try await store.loads(since: .distantPast, page: 1, perPage: 100).loads
            extractions = try await store.lastExtractions(since: .distantPast, page: 1, perPage: 100).jobs.map(\.job)
        }
    }

    /// A single node's history: a source with a credential, jobs that ended with state and loads
    /// and one left running, a paused, a deleted and a system-paused source, a discovered
    /// source with a selection and a check left running.
    static func history(_ store: Store) async throws {
        let shop = try await store.createSource(
            try newSource(
                "Shop",
                properties: [
                    "host": .string("db"), "password": .string("s3cret"), "cron_expression": .string("0 30 9 ? * MON-FRI"),
                    "cron_timezone": .string("Europe/Berlin"),
                ]),
            actor: alice, now: t0)
        for (i, name) in ["j1", "j2"].enumerated() {
            let at = t0.addingTimeInterval(Double(10 * i) + 0.125)
            let job = try await StoreJobLifeTests.manual(store, shop.id, at: at, name)
            try store.recordSpawned([
                SpawnedJob(jobID: job.id, processGroup: 4000 + Int32(i), spawnedAt: at, logPath: "/var/lib/tapline/logs/\(name).log")
            ])
            _ = try store.recordCompletions(
                [
                    (
                        job.id,
                        StoreJobLifeTests.succeeded(
                            at: at.addingTimeInterval(2), state: #"{"bookmarks":{"orders":\#(i)}}"#, loaded: ["orders": 3 + i])
                    )
                ],
                policy: CompletionPolicy())
        }
        _ = try await StoreJobLifeTests.manual(store, shop.id, at: t0.addingTimeInterval(30), "j3-running")
        let paused = try await store.createSource(
            try newSource(
                "Paused",
                properties: [
                    "host": .string("db"), "frequency_in_minutes": .string("360"), "anchor_time": .string("2026-01-01T03:30:00.250Z"),
                ]),
            actor: alice, now: t0)
        _ = try await store.createSource(
            try newSource(
                "Anchored",
                properties: [
                    "host": .string("db"), "frequency_in_minutes": .string("360"), "anchor_time": .string("2026-01-01T03:30:00.250Z"),
                ]),
            actor: alice, now: t0)
        _ = try await store.updateSource(id: paused.id, patch: patch { $0.pause = .pause(shownAs: t0) }, actor: alice, now: t0)
        let gone = try await store.createSource(try newSource("Gone"), actor: alice, now: t0)
        _ = try await store.deleteSource(id: gone.id, actor: alice, now: t0.addingTimeInterval(1))
        let failing = try await store.createSource(try newSource("Failing"), actor: alice, now: t0)
        try await store.systemPause(sourceID: failing.id, reason: "the tap failed 3 times", now: t0.addingTimeInterval(2))
        let disco = try await store.createSource(
            NewSource(
                type: StoreStreamsTests.discoveryType.type, displayName: "Disco", name: "disco", nameWasDerived: false,
                changes: try StoreStreamsTests.discoveryType.validate(properties: ["host": .string("h")]), destinationID: nil),
            actor: alice, now: t0)
        #expect(try await store.startConnectionCheck(sourceID: disco.id, name: "c1", now: t0))
        try await store.finishConnectionCheck(
            name: "c1", exitStatus: 0, errorMessage: nil, streams: [StoreStreamsTests.stream("a"), StoreStreamsTests.stream("b")], now: t0)
        _ = try await store.updateStreamMetadata(
            sourceID: disco.id, changes: [("a", [["breadcrumb": [String](), "metadata": ["selected": true]]])], now: t0)
        #expect(try await store.startConnectionCheck(sourceID: disco.id, name: "c2", now: t0.addingTimeInterval(3)))
    }

    @Test("every read answers as the single node's next start would; ids and the key carry over; a second move changes nothing")
    func move() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tapline.db"
        let single = try Store.open(path: path, catalog: Self.catalog, cipher: Self.key).withTestDestination()
        try await Self.history(single)

        try await withClusterDatabase { database in
            let location = database.location
            let summary = try await ClusterImport(database: database, node: "old-host").run(
                from: try StoreExport(path: path), now: Self.moved)
            #expect(summary.rows.map(\.table) == ClusterImport.tableNames)
            let counts = Dictionary(uniqueKeysWithValues: summary.rows.map { ($0.table, $0.count) })
            #expect(counts["sources"] == 6 && counts["jobs"] == 3 && counts["destinations"] == 1 && counts["source_state"] == 1)
            #expect(counts["stream_loads"] == 1 && counts["source_streams"] == 2 && counts["connection_checks"] == 2)
            #expect(summary.interruptedJobs == 1 && summary.failedChecks == 1 && summary.keyID == Self.key.keyID)

            // The single node's next start would end what was running, as the move did.
            _ = try single.interruptRunningJobs(now: Self.moved)
            let before = try await Reads(single)
            try await withNodeStore(on: location, catalog: Self.catalog, cipher: Self.key) { cluster in
                let after = try await Reads(cluster)
                #expect(after.sources == before.sources)
                #expect(after.sources.first?.credentials["password"] == "s3cret")
                #expect(after.events == before.events)
                #expect(after.jobs == before.jobs)
                #expect(after.states == before.states && after.states.first == #"{"bookmarks":{"orders":1}}"#)
                #expect(after.streams == before.streams && after.catalogs == before.catalogs)
                #expect(after.checks == before.checks)
                #expect(after.loads == before.loads && after.extractions == before.extractions)
                #expect(try await cluster.job(name: "j3-running")?.status == .interrupted)

                // Identities go on after the moved ids; only the moved key opens the cluster.
                try await cluster.joinForTests(ClusterMembership(database: database), name: "n1")
                let next = try await cluster.createSource(try newSource("Next"), actor: alice, now: Self.moved)
                #expect(next.id == 7)
                guard case .started(let job, _) = try await cluster.startManualJob(sourceID: next.id, now: Self.moved, jobName: "n1.job")
                else {
                    Issue.record("not started")
                    return
                }
                #expect(job.id == 4)
                let other = try CredentialCipher(keyBytes: Array(repeating: 1, count: 32))
                await #expect(throws: ClusterKeyError.self) { try await cluster.adoptCredentialsKey(other.keyID, node: "n2") }
                try await cluster.adoptCredentialsKey(Self.key.keyID, node: "n2")

                // A second move finds the database in use (a node holds a lease), then not empty.
                await #expect(throws: ClusterImportError.self) {
                    try await ClusterImport(database: database, node: "old-host").run(from: try StoreExport(path: path), now: Date())
                }
                try await database.client.query("UPDATE nodes SET left_at = now()", logger: database.logger)
                do {
                    _ = try await ClusterImport(database: database, node: "old-host").run(from: try StoreExport(path: path), now: Date())
                    Issue.record("a second move was accepted")
                } catch let error as ClusterImportError {
                    #expect(error.description.contains("not empty (destinations has 1 row(s))"), "\(error)")
                }
                #expect(try await cluster.allSources().count == 7)
            }
        }
    }

    @Test("a move into a database whose recorded key differs, or from a file that is not tapline's, is refused")
    func refusals() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tapline.db"
        let single = try Store.open(path: path, catalog: Self.catalog, cipher: Self.key).withTestDestination()
        _ = try await single.createSource(
            try newSource("Shop", properties: ["host": .string("db"), "password": .string("x")]), actor: alice, now: t0)
        try await withClusterDatabase { database in
            let other = try CredentialCipher(keyBytes: Array(repeating: 2, count: 32))
            try await database.client.query(
                "INSERT INTO cluster_settings (name, value, set_by) VALUES ('credentials_key_id', \(other.keyID), 'n0')",
                logger: database.logger)
            do {
                _ = try await ClusterImport(database: database, node: "h").run(from: try StoreExport(path: path), now: Date())
                Issue.record("a move sealed with another key was accepted")
            } catch let error as ClusterImportError {
                #expect(error.description.contains("records credentials key id \(other.keyID)"), "\(error)")
            }
            var sources = 0
            for try await n in try await database.client.query("SELECT count(*) FROM sources", logger: database.logger).decode(Int.self) {
                sources = n
            }
            #expect(sources == 0, "a refused move changes nothing")
        }
        let notTapline = directory + "/other.db"
        try DatabaseQueue(path: notTapline).inDatabase { try $0.execute(sql: "CREATE TABLE t (x)") }
        #expect(throws: StoreExportError.self) { try StoreExport(path: notTapline) }
        #expect(throws: StoreExportError.self) { try StoreExport(path: directory + "/missing.db") }
    }
}
