import Foundation
import Logging
import TaplineCluster
import TaplineCore
import TaplineStore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// A private PostgreSQL server for the cluster tests: `initdb` and `pg_ctl` from Debian's
/// `postgresql` package, on 127.0.0.1 and a free port, in a temporary directory, password
/// authentication over TCP (the path a node takes). As root the server runs as `postgres`
/// (PostgreSQL refuses root). One server per test process, started on first use and stopped at
/// exit; each test gets a database of its own.
public final class PostgresServer: Sendable {
    public static let password = "tapline-test-secret"
    public static let user = "tapline"

    /// The directory of `initdb`, newest version first; `nil` when PostgreSQL is not installed.
    static let binDirectory: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return nil
    }()

    public static var available: Bool { binDirectory != nil }

    /// Started once; a failure to start is every test's failure, with the server's log.
    public static let shared: Result<PostgresServer, any Error> = Result { try PostgresServer() }

    let directory: String
    let port: Int
    let bin: String
    private let runAs: String?

    private init() throws {
        guard let bin = Self.binDirectory else { throw ServerError("PostgreSQL is not installed (apt-get install postgresql)") }
        self.bin = bin
        directory = try Self.makeTemporaryDirectory()
        port = try Self.freePort()
        runAs = geteuid() == 0 ? "postgres" : nil
        if runAs != nil { try Self.run("/bin/chown", ["postgres:postgres", directory]) }
        let passwordFile = directory + "/pw"
        try (Self.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if runAs != nil { try Self.run("/bin/chown", ["postgres:postgres", passwordFile]) }
        try runServerTool(
            "initdb",
            [
                "-D", directory + "/data", "-U", Self.user, "--pwfile", passwordFile, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
            ])
        try runServerTool(
            "pg_ctl",
            [
                "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-o",
                "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400", "start",
            ])
        Self.stopAtExit = (bin, directory, runAs)
        atexit {
            guard let (bin, directory, runAs) = PostgresServer.stopAtExit else { return }
            let stop = [bin + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"]
            try? PostgresServer.run(
                runAs == nil ? stop[0] : "/usr/sbin/runuser", runAs == nil ? Array(stop.dropFirst()) : ["-u", runAs!, "--"] + stop)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    nonisolated(unsafe) static var stopAtExit: (String, String, String?)?

    /// A new, empty database on the server; its location (the password is `password`).
    public func makeDatabase() throws -> PostgresLocation {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try superuser("CREATE DATABASE \(name)")
        return PostgresLocation(user: Self.user, host: "127.0.0.1", port: port, database: name, tls: .disable)
    }

    /// Runs SQL as the superuser through the server's socket, on the `postgres` database.
    public func superuser(on database: String = "postgres", _ sql: String) throws {
        try Self.run(
            bin + "/psql", ["-h", directory, "-p", "\(port)", "-U", Self.user, "-d", database, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    private func runServerTool(_ tool: String, _ arguments: [String]) throws {
        let path = bin + "/" + tool
        if let runAs {
            try Self.run("/usr/sbin/runuser", ["-u", runAs, "--", path] + arguments, directory: directory)
        } else {
            try Self.run(path, arguments, directory: directory)
        }
    }

    /// Runs a program to its end with posix_spawn and waitpid (Foundation's `Process` can miss
    /// the exit of a child whose own child, the server, lives on). Output goes to a file that
    /// the error quotes.
    static func run(_ path: String, _ arguments: [String], directory: String? = nil) throws {
        let outputPath = NSTemporaryDirectory() + "/tapline-pg-out-" + UUID().uuidString
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // env(1) changes directory in the child (posix_spawn's chdir action is not exported here).
        let command = directory.map { ["/usr/bin/env", "--chdir=\($0)", path] } ?? [path]
        let argv = (command + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw ServerError("cannot run \(path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ServerError("waitpid failed for \(path)") }
        }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw ServerError("\(path) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/tapline-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ServerError("mkdtemp failed") }
        return String(cString: made)
    }

    /// A port the kernel just handed out on 127.0.0.1 (free a moment ago).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw ServerError("cannot bind a port") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw ServerError("cannot read the bound port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs `body` with a migrated database of its own and its pool running; each call on it may
/// take `callLimit`.
public func withClusterDatabase<T: Sendable>(
    callLimit: Duration = ClusterDatabase.transactionLimit, _ body: @Sendable (ClusterDatabase) async throws -> T
) async throws -> T {
    let server = try PostgresServer.shared.get()
    let location = try server.makeDatabase()
    var logger = Logger(label: "tapline.cluster.test")
    logger.logLevel = .error  // the pool warns when a query comes before its run() task started
    let database = ClusterDatabase(location: location, password: PostgresServer.password, logger: logger, callLimit: callLimit)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.run() }
        defer { group.cancelAll() }
        try await database.verifyConnection()
        try await database.migrate()
        return try await body(database)
    }
}

/// Runs `body` with a `ClusterStore` on a database of its own, its pool and change feed running
/// and the feed listening (its first reconcile done). Reconciles are hourly unless asked.
public func withClusterStore<T: Sendable>(
    catalog: SourceTypeCatalog, reconcileInterval: Duration = .seconds(3600), callLimit: Duration = ClusterDatabase.transactionLimit,
    _ body: @Sendable (ClusterStore, ClusterDatabase) async throws -> T
) async throws -> T {
    try await withClusterDatabase(callLimit: callLimit) { database in
        let store = ClusterStore(database: database, catalog: catalog, reconcileInterval: reconcileInterval)
        return try await running(store) { try await body(store, database) }
    }
}

/// Runs `body` with another node's `ClusterStore` on an existing (migrated) database: a pool
/// and a change feed of its own, as a separate process would have.
public func withNodeStore<T: Sendable>(
    on location: PostgresLocation, catalog: SourceTypeCatalog, cipher: CredentialCipher? = nil,
    reconcileInterval: Duration = .seconds(3600), _ body: @Sendable (ClusterStore) async throws -> T
) async throws -> T {
    var logger = Logger(label: "tapline.cluster.test")
    logger.logLevel = .error
    let database = ClusterDatabase(location: location, password: PostgresServer.password, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.run() }
        defer { group.cancelAll() }
        let store = ClusterStore(database: database, catalog: catalog, cipher: cipher, reconcileInterval: reconcileInterval)
        return try await running(store) { try await body(store) }
    }
}

/// Runs the store's change feed around `body`, once it listens.
private func running<T: Sendable>(_ store: ClusterStore, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await store.run() }
        defer { group.cancelAll() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !store.isListening {
            guard ContinuousClock.now < deadline else { throw ServerError("the cluster change feed did not start listening") }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try await body()
    }
}
