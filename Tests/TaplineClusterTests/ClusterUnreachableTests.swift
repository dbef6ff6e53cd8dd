import Foundation
import PostgresNIO
import TaplineTestSupport
import Testing

@testable import TaplineCluster

/// The errors a lost database raises are the ones the store calls "unreachable" (retried by the
/// runner, a 503 in the API), wherever in a transaction they strike.
@Suite("Cluster: the database lost mid-call", .enabled(if: PostgresServer.available, "needs PostgreSQL (apt-get install postgresql)"))
struct ClusterUnreachableTests {
    @Test("a transaction whose connection the server ends is unreachable, not a failure of tapline")
    func terminatedMidTransaction() async throws {
        let server = try PostgresServer.shared.get()
        try await withClusterDatabase { database in
            let name = database.location.database
            let running = Task {
                try await database.transaction { connection in
                    try await connection.query("SELECT pg_sleep(20)", logger: database.logger)
                }
            }
            // Wait until the sleep runs on the server, then end its backend as a crash would.
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let sleeping = try await database.query(
                    "SELECT count(*)::int FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'"
                ) { rows in
                    var count = 0
                    for try await n in rows.decode(Int.self) { count = n }
                    return count
                }
                if sleeping > 0 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            try server.superuser(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND query = 'SELECT pg_sleep(20)'")
            let outcome = await running.result
            guard case .failure(let error) = outcome else {
                Issue.record("the transaction outlived its connection")
                return
            }
            #expect(ClusterStore.isUnreachable(error), "\(String(reflecting: error))")
            #expect(ClusterStore.unavailableReason(error)?.contains("unreachable") == true)
        }
    }

    @Test("errors of tapline's own making are not unreachable")
    func ownErrorsAreNot() async throws {
        try await withClusterDatabase { database in
            let outcome = await Result {
                try await database.transaction { connection in
                    try await connection.query("SELECT * FROM no_such_table", logger: database.logger)
                }
            }
            guard case .failure(let error) = outcome else {
                Issue.record("a query of a missing table succeeded")
                return
            }
            #expect(!ClusterStore.isUnreachable(error))
            #expect(ClusterStore.unavailableReason(error) == nil)
        }
    }
}
