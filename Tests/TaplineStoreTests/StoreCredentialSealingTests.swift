import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract
import Testing

@testable import TaplineStore

/// Credentials sealed at rest: what `sqlite3` shows, what the store reads, the wrong key, plain
/// rows from before, and rotation.
@Suite("Store: credentials sealed at rest")
struct StoreCredentialSealingTests {
    let key = try! CredentialCipher(keyBytes: Array(repeating: 7, count: 32))
    let other = try! CredentialCipher(keyBytes: Array(repeating: 9, count: 32))

    func raw(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT credentials FROM sources ORDER BY id") }
    }

    @Test("stored sealed, read in plain; another key or none is refused, never read as empty")
    func sealed() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.db"
        do {
            let store = try Store.open(path: path, catalog: testCatalog, cipher: key)
            let source = try await store.createSource(
                try newSource("s", properties: ["host": .string("h"), "password": .string("hunter2")]), actor: alice, now: t0)
            #expect(source.credentials == ["password": "hunter2"])
            _ = try await store.createSource(try newSource("none"), actor: alice, now: t0)
        }
        let stored = try raw(path)
        #expect(stored[0].hasPrefix(#"{"tapline_sealed":1,"key":"\#(key.keyID)","box":"#) && !stored[0].contains("hunter2"))
        #expect(stored[1] == "{}")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(data.range(of: Data("hunter2".utf8)) == nil)
        let reopened = try Store.open(path: path, catalog: testCatalog, cipher: key)
        #expect(try await reopened.source(id: 1)?.credentials == ["password": "hunter2"])
        #expect(throws: CredentialKeyError.wrongKey(found: key.keyID, expected: other.keyID)) {
            try Store.open(path: path, catalog: testCatalog, cipher: other)
        }
        #expect(throws: CredentialKeyError.missingKey(found: key.keyID)) { try Store.open(path: path, catalog: testCatalog) }
        #expect(try Store.sealedKeyIDs(path: path) == [key.keyID])
    }

    @Test("plain-text rows (from before sealing, or written by hand) are sealed at the next open")
    func plainRowsSealed() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.db"
        do {
            let store = try Store.open(path: path, catalog: testCatalog)
            _ = try await store.createSource(
                try newSource("s", properties: ["host": .string("h"), "password": .string("hunter2")]), actor: alice, now: t0)
        }
        #expect(try raw(path) == [#"{"password":"hunter2"}"#])
        let store = try Store.open(path: path, catalog: testCatalog, cipher: key)
        #expect(try raw(path)[0].contains(key.keyID))
        #expect(try await store.source(id: 1)?.credentials == ["password": "hunter2"])
    }

    @Test("rotation re-seals every row with the new key in one transaction")
    func rotation() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.db"
        let store = try Store.open(path: path, catalog: testCatalog, cipher: key)
        for i in 0..<3 {
            _ = try await store.createSource(
                try newSource("s\(i)", properties: ["host": .string("h"), "password": .string("pw\(i)")]), actor: alice, now: t0)
        }
        #expect(try store.resealCredentials(with: other) == 3)
        #expect(try Store.sealedKeyIDs(path: path) == [other.keyID])
        let rotated = try Store.open(path: path, catalog: testCatalog, cipher: other)
        #expect(try await rotated.source(id: 3)?.credentials == ["password": "pw2"])
    }
}
