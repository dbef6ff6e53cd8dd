import Foundation
import Testing

@testable import TaplineRuntime

@Suite("Token file and instance lock")
struct TokenAndLockTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "tapline-rt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("token lines: TOKEN, NAME:TOKEN, comments and blanks")
    func parse() throws {
        let entries = try TokenFile.parse("# tokens\n\nac_abc\nci:ac_def\n  ops-team:xyz  \n", path: "t")
        #expect(
            entries == [.init(name: "default", token: "ac_abc"), .init(name: "ci", token: "ac_def"), .init(name: "ops-team", token: "xyz")])
        #expect(throws: TokenFile.Failure.self) { try TokenFile.parse("# nothing\n", path: "t") }
        #expect(throws: TokenFile.Failure.self) { try TokenFile.parse("bad name:tok\n", path: "t") }
        #expect(throws: TokenFile.Failure.self) { try TokenFile.parse("name:\n", path: "t") }
    }

    @Test("a generated token file is 0600, random, and never overwritten")
    func generate() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/token"
        let created = try TokenFile.create(path: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(!TokenFile.isReadableByOthers(path: path))
        #expect(try TokenFile.read(path: path) == created)
        #expect(created[0].token.hasPrefix("ac_") && created[0].token.count == 67)
        #expect(TokenFile.generateToken() != TokenFile.generateToken())
        #expect(throws: TokenFile.Failure.self) { try TokenFile.create(path: path) }
        #expect(try TokenFile.read(path: path) == created)
    }

    @Test("a second lock on the same database is refused and names the holder")
    func lock() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tapline.db.lock"
        var first: InstanceLock? = try InstanceLock(path: path)
        do {
            _ = try InstanceLock(path: path)
            Issue.record("second lock acquired")
        } catch let held as InstanceLock.Held {
            #expect(held.holder == "pid \(getpid())")
            #expect(held.description.contains("already running"))
        }
        first = nil
        #expect(first == nil)
        // Released once no process holds the descriptor: a child that another test spawns at
        // this instant holds a copy between its fork and its exec (the descriptor is
        // close-on-exec), so the lock may take a moment to come free.
        var again: InstanceLock?
        for _ in 0..<200 where again == nil {
            again = try? InstanceLock(path: path)
            if again == nil { usleep(5000) }
        }
        #expect(again != nil, "the lock is free once its holder released it")
    }
}
