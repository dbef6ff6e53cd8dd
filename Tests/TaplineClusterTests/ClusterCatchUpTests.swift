import Foundation
import PostgresNIO
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// The catch-up rules on a cluster: at a node's start, sources no node has been starting (overdue
/// by more than the lease and the reap grace: every node was down) get the single node's rules;
/// a source another node is about to start is left to it.
@Suite(
    "Cluster: catch-up after every node was down", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterCatchUpTests {
    @Test("long-overdue sources run once within the window or are skipped with an event; a just-due one is left to its node")
    func catchUp() async throws {
        let created = Timestamp.parse("2026-12-04T07:00:00Z")!
        let now = Timestamp.parse("2026-12-04T10:30:00Z")!
        try await withClusterStore(catalog: ClusterStoreTests.catalog) { store, database in
            var ids: [Int64] = []
            for name in ["Skipped", "Within", "Attended"] {
                let source = try await store.createSource(
                    try ClusterStoreTests.new(name, ["host": .string("db"), "cron_expression": .string("0 0 * ? * *")]),
                    actor: ClusterStoreTests.actor, now: created)
                ids.append(source.id)
            }
            let overdue = [ids[0]: "2026-12-04T08:00:00Z", ids[1]: "2026-12-04T08:00:00Z", ids[2]: "2026-12-04T10:29:58Z"]
            for (id, at) in overdue {
                try await database.client.query(
                    "UPDATE sources SET next_fire_at = \(at)::timestamptz WHERE id = \(id)", logger: database.logger)
            }
            // A 10-minute window: both hourly sources missed their 10:00 by more.
            let first = try await store.prepareSchedule(now: now, catchUpWindow: 600, cause: .downtime, unattendedAfter: 35)
            #expect(first.skipped == 2)
            let due = Dictionary(uniqueKeysWithValues: first.due.map { ($0.sourceID, $0.due) })
            #expect(due[ids[0]] == Timestamp.parse("2026-12-04T11:00:00Z"))
            #expect(due[ids[2]] == Timestamp.parse("2026-12-04T10:29:58Z"), "a source overdue by 2 s is another node's to start")
            let events = try await store.events(sourceID: ids[0])
            #expect(events.last?.kind == .skipped && events.last?.reason == "outside catch-up window")
            #expect(events.last?.detail == "3 occurrence(s) missed while tapline was not running")

            // Overdue again, with the default window (one period, an hour): it runs once.
            try await database.client.query(
                "UPDATE sources SET next_fire_at = '2026-12-04T08:00:00Z'::timestamptz WHERE id = \(ids[1])", logger: database.logger)
            let second = try await store.prepareSchedule(now: now, catchUpWindow: nil, cause: .downtime, unattendedAfter: 35)
            #expect(second.skipped == 0)
            let within = Dictionary(uniqueKeysWithValues: second.due.map { ($0.sourceID, $0.due) })
            #expect(within[ids[1]] == Timestamp.parse("2026-12-04T10:00:00Z"), "run once, as its latest missed occurrence")
            #expect(within[ids[2]] == Timestamp.parse("2026-12-04T10:29:58Z"))
        }
    }
}
