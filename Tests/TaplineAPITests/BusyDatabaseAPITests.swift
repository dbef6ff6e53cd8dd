import Foundation
import GRDB
import HTTPTypes
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// A database locked by another process (sqlite3 with BEGIN IMMEDIATE) is a clear, retryable
/// answer that changed nothing, never a 500.
@Suite("API: busy database")
struct BusyDatabaseAPITests {
    @Test("writes held up past the busy timeout answer a Stitch-shaped 503 with Retry-After, and write nothing")
    func busy() async throws {
        let dir = NSTemporaryDirectory() + "tapline-busy-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store.open(path: dir + "/t.db", catalog: SourceTypeCatalog(apiCatalogTypes), busyTimeout: 0.2)
            .withTestDestination()
        try await withAPI(store: store) { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Shop"}"#).status == 200)
            // Another process: a plain SQLite connection holding the write lock.
            let (sync, pause) = try await withForeignWriteLock(on: dir + "/t.db") {
                (
                    try await api.call(.post, "/v4/sources/1/sync"),
                    try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#)
                )
            }
            for r in [sync, pause] {
                #expect(r.status == 503 && r.sourcesError.code == "Unavailable", "\(r.status) \(r.text)")
            }
            #expect(try await api.store.jobs(sourceID: 1, page: 1).total == 0, "nothing was half-started")
            #expect(try await api.call(.get, "/v4/sources/1")["paused_at"] is NSNull)
            #expect(try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#).status == 200)
        }
    }
}
