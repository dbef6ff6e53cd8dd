import TaplineCluster
import TaplineCore
import Testing

@Suite("Cluster: the store URL")
struct PostgresLocationTests {
    @Test("user, host, port, database and sslmode are read; the description has no secret")
    func parses() throws {
        let location = try PostgresLocation.parse("postgres://tapline@db.internal:6432/scheduler?sslmode=require")
        #expect(location == PostgresLocation(user: "tapline", host: "db.internal", port: 6432, database: "scheduler", tls: .require))
        #expect(location.description == "postgres://tapline@db.internal:6432/scheduler?sslmode=require")
        #expect(try PostgresLocation.parse("postgresql://a@h/d") == PostgresLocation(user: "a", host: "h", database: "d"))
        #expect(try PostgresLocation.parse("postgres://a@[::1]:5433/d").host == "::1")
        #expect(try PostgresLocation.parse("postgres://a%40corp@h/d").user == "a@corp")
    }

    @Test(
        "refused with a reason",
        arguments: [
            ("mysql://a@h/d", "must start with postgres://"),
            ("postgres://h/d", "names no user"),
            ("postgres://a:secret@h/d", "carries a password"),
            ("postgres://a@h", "names no database"),
            ("postgres://a@h/", "names no database"),
            ("postgres://a@h:0/d", "outside 1-65535"),
            ("postgres://a@h:x/d", "bad port"),
            ("postgres://a@/d", "names no host"),
            ("postgres://a@h/d?application_name=x", "only sslmode"),
            ("postgres://a@h/d?sslmode=verify-full", "use disable, prefer or require"),
        ])
    func refuses(text: String, reason: String) {
        do {
            _ = try PostgresLocation.parse(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
            #expect(!error.description.contains("secret"))
        }
    }
}
