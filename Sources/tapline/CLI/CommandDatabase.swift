import Logging
import TaplineCluster
import TaplineCore

/// A command's session on a cluster's database (`store migrate`, `credentials rotate-key`): a
/// pool of two connections whose warnings only reach stderr, the server checked once (a wrong
/// password is an error, not a retry loop) and the schema brought to this version before `body`.
func withCommandDatabase<T>(
    _ location: PostgresLocation, password: String?, label: String, _ body: (ClusterDatabase) async throws -> T
) async throws -> T {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    let database = ClusterDatabase(location: location, password: password, logger: logger, maximumConnections: 2)
    let pool = Task { await database.run() }
    defer { pool.cancel() }
    try await database.verifyConnection()
    try await database.migrate()
    return try await body(database)
}
