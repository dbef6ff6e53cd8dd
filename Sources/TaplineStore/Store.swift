import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

/// The only code that touches SQLite.
///
/// Every control-plane write is one IMMEDIATE transaction, committed with `synchronous=FULL`
/// before the caller answers, so an acknowledged change survives a crash or power loss. Methods
/// are named by intent (`pause`, `createSource`), never by table.
public final class Store: Sendable {
    /// The GRDB writer: a `DatabasePool` (WAL, concurrent readers) on disk, a `DatabaseQueue` in
    /// memory for tests. Only the store's own files use it (tests inspect rows through
    /// `@testable import`): every write goes through a method named for its intent, so every
    /// write is announced.
    let writer: any DatabaseWriter
    /// The configured source types; the store needs them to know which properties are credentials,
    /// when a source is fully configured and what its default frequency is.
    public let catalog: SourceTypeCatalog
    /// Announces each commit's source changes to the observers (`observe(_:)`).
    let announcer = ChangeAnnouncer()
    /// Occurrences coalesced by late starts, for their rate-limited events.
    let coalescing = CoalescingLedger()
    /// Says when a commit queued webhook deliveries.
    let deliveries = DeliveryAnnouncer()

    /// Seals credentials at rest; `nil` keeps them as plain JSON (tests).
    let cipher: CredentialCipher?

    init(writer: any DatabaseWriter, catalog: SourceTypeCatalog, cipher: CredentialCipher? = nil) throws {
        self.writer = writer
        self.catalog = catalog
        self.cipher = cipher
        try Self.migrator.migrate(writer)
        try Self.sealPlainCredentials(writer, cipher: cipher)
        writer.add(transactionObserver: announcer, extent: .databaseLifetime)
        writer.add(transactionObserver: deliveries, extent: .databaseLifetime)
    }

    /// Called after each commit that queued webhook deliveries (one listener: the dispatcher).
    public func onDeliveriesQueued(_ callback: @escaping @Sendable () -> Void) {
        deliveries.setListener(callback)
    }

    /// Registers an observer of committed source changes (held weakly). The scheduler learns
    /// every due time from here, whoever wrote it: the API, a job's end, a connection check.
    public func observe(_ observer: any StoreObserver) {
        announcer.add(observer)
    }

    /// Opens (creating if needed) the database file at `path`, in WAL mode so `sqlite3` can read it
    /// while the daemon runs, and migrates it.
    /// `busyTimeout`: how long a write waits for a lock another process holds (a person
    /// writing with the `sqlite3` CLI) before it fails with `StoreError.busy`.
    /// `cipher`: the credentials key; opening fails (`CredentialKeyError`) when the database's
    /// credentials are sealed with another key, or sealed and no key is given.
    public static func open(
        path: String, catalog: SourceTypeCatalog, busyTimeout: Double = 5, cipher: CredentialCipher? = nil
    ) throws -> Store {
        let pool = try DatabasePool(path: path, configuration: configuration(busyTimeout: busyTimeout, cipher: cipher))
        // The pool switches its writer to `synchronous = NORMAL` when it sets up WAL mode, after
        // `prepareDatabase` ran: a commit would then reach the WAL without an fsync and an
        // acknowledged write could be lost with the power. Set FULL again on the connection that
        // commits, and refuse to run if it does not hold.
        let synchronous = try pool.writeWithoutTransaction { db -> Int? in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard synchronous == 2 else {
            throw DatabaseError(message: "cannot set synchronous=FULL on \(path) (it reads \(synchronous.map(String.init) ?? "nothing"))")
        }
        return try Store(writer: pool, catalog: catalog, cipher: cipher)
    }

    /// A private in-memory database with the same schema, for tests.
    public static func inMemory(catalog: SourceTypeCatalog, cipher: CredentialCipher? = nil) throws -> Store {
        try Store(writer: try DatabaseQueue(configuration: configuration(cipher: cipher)), catalog: catalog, cipher: cipher)
    }

    private static func configuration(busyTimeout: Double = 5, cipher: CredentialCipher? = nil) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        // A person writing with the sqlite3 CLI makes us wait instead of fail.
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            // An acknowledged write must survive power loss: fsync the WAL on every commit. (A
            // pool's writer needs it again after WAL set-up: see `open`.)
            try db.execute(sql: "PRAGMA synchronous = FULL")
            CredentialCipher.register(cipher, on: db)
        }
        return config
    }

    /// Whether `error` means the database stayed locked by another process for longer than the
    /// busy timeout. Such a write changed nothing (its transaction never began or was rolled
    /// back), so callers answer "try again" (503) rather than report a failure of tapline.
    public static func isBusy(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// The API's 503 reason for an error of this store (`APIDependencies.unavailable`): only a
    /// lock held past the busy timeout is "not now".
    public static func unavailableReason(_ error: any Error) -> String? {
        isBusy(error) ? "the database is locked by another process; nothing was changed; retry shortly" : nil
    }

    /// Runs `PRAGMA integrity_check` and returns its rows (`["ok"]` when the file is sound).
    public func integrityCheck() async throws -> [String] {
        try await writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// A cheap read that proves the database answers (for health checks).
    public func isReachable() async throws -> Bool {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0 > 0 }
    }

    /// The value of a PRAGMA as text, for diagnostics and tests.
    public func pragma(_ name: String) async throws -> String? {
        try await writer.read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    /// The value of a PRAGMA on the writer connection (the one that commits), for tests.
    func writerPragma(_ name: String) async throws -> String? {
        try await writer.writeWithoutTransaction { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}
