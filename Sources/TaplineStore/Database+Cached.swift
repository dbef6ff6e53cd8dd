import GRDB
import TaplineStoreContract

extension Database {
    /// Runs a statement compiled once per connection. The scheduler's hot paths (claims, job
    /// outcomes) run the same few statements thousands of times; compiling them each time (and
    /// running GRDB's authorizer over every column) cost more than executing them.
    func run(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func fetchRows(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    /// One record through a statement compiled once per connection.
    func fetchOne<Record: FetchableRecord>(
        _ type: Record.Type, _ sql: String, _ arguments: StatementArguments = StatementArguments()
    ) throws -> Record? {
        try Record.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}
