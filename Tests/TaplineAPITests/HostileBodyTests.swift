import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TaplineCore
import TaplineStoreContract
import Testing

@testable import TaplineAPI
@testable import TaplineStore

/// Bodies built to break the decoders and validators: invalid UTF-8, deep nesting, huge numbers,
/// wrong types, duplicate keys, overlong strings, out-of-range timestamps, malformed cron. Every
/// answer must be a Stitch-shaped 4xx (or a 200 for a body that happens to be valid), and a
/// refused request must change nothing.
@Suite("API: hostile bodies")
struct HostileBodyTests {
    /// Everything a request could change, as text: sources, events, jobs and streams.
    static func snapshot(_ store: Store) async throws -> String {
        try await store.writer.read { db in
            var out = ""
            for table in ["sources", "source_events", "jobs", "source_streams", "connection_checks"] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid") { out += "\(table) \(row)\n" }
            }
            return out
        }
    }

    /// Sends raw bytes and checks the answer's shape; returns the status.
    static func send(_ api: APIClient, _ method: HTTPRequest.Method, _ path: String, _ bytes: [UInt8]) async throws -> Int {
        let response = try await api.client.execute(
            uri: path, method: method,
            headers: [.authorization: "Bearer \(testToken)", .contentType: "application/json"],
            body: ByteBuffer(bytes: bytes))
        let status = Int(response.status.code)
        let preview = String(decoding: bytes.prefix(120), as: UTF8.self)
        #expect(status < 500, "\(method) \(path) answered \(status) to \(preview)")
        #expect([200, 400, 404, 413].contains(status), "\(method) \(path) answered \(status) to \(preview)")
        let json = try? JSONSerialization.jsonObject(with: Data(buffer: response.body), options: [.fragmentsAllowed])
        #expect(
            json != nil,
            "\(method) \(path): the answer is not JSON (\(status): \(String(buffer: response.body).prefix(200))) for \(preview)")
        if status != 200 {
            // Stitch's shapes: {"error": …} everywhere; the streams endpoints also answer a bare
            // string or {"invalid_fields": …} (STITCH-V4 §streams).
            let object = json as? [String: Any]
            let stitchShaped =
                object?["error"] != nil || (path.contains("/streams") && (json is String || object?["invalid_fields"] != nil))
            #expect(stitchShaped, "\(method) \(path): not a Stitch error body: \(String(buffer: response.body).prefix(200))")
        }
        return status
    }

    /// Sends `bytes`; a refused request must leave the database exactly as it was.
    static func expectRefusedOrApplied(
        _ api: APIClient, _ method: HTTPRequest.Method, _ path: String, _ bytes: [UInt8]
    ) async throws -> Int {
        let before = try await snapshot(api.store)
        let status = try await send(api, method, path, bytes)
        if status != 200 {
            let after = try await snapshot(api.store)
            #expect(
                before == after,
                "\(method) \(path) answered \(status) but changed the database: \(String(decoding: bytes.prefix(120), as: UTF8.self))")
        }
        return status
    }

    static func nested(_ depth: Int, open: String, close: String, inner: String = "1") -> [UInt8] {
        Array((String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)).utf8)
    }

    /// Hand-picked shapes, each aimed at one decoder path.
    static var fixed: [[UInt8]] {
        let valid = #"{"type":"platform.demo","display_name":"Valid"}"#
        var bodies: [[UInt8]] = [
            [], Array("null".utf8), Array("[]".utf8), Array("\"x\"".utf8), Array("{".utf8), Array(valid.dropLast().utf8),
            // Invalid UTF-8 inside and outside strings; a lone surrogate; NUL.
            Array(#"{"type":"platform.demo","display_name":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":""#.utf8) + [0xC3] + Array(#""}"#.utf8),
            [0xEF, 0xBB, 0xBF] + Array(valid.utf8),
            Array(#"{"type":"platform.demo","display_name":"\ud800"}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"a\u0000b"}"#.utf8),
            // Deep nesting, as a whole body and inside properties.
            nested(100, open: "[", close: "]"), nested(600, open: "[", close: "]"), nested(20_000, open: "[", close: "]"),
            nested(600, open: #"{"a":"#, close: "}"),
            Array(#"{"type":"platform.demo","display_name":"N","properties":"#.utf8) + nested(5_000, open: #"{"a":"#, close: "}")
                + Array("}".utf8),
            // Huge and odd numbers where integers are expected.
            Array(#"{"type":"platform.demo","display_name":"A","destination_id":1e400}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","destination_id":123456789012345678901234567890}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","destination_id":-0.5}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","destination_id":NaN}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","properties":{"frequency_in_minutes":"1e3"}}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","properties":{"frequency_in_minutes":60}}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","properties":{"record_count":"99999999999999999999"}}"#.utf8),
            // Wrong types for every field.
            Array(#"{"type":1,"display_name":"A"}"#.utf8), Array(#"{"type":"platform.demo","display_name":["A"]}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","properties":[]}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","properties":{"record_count":{"x":1}}}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","name":5}"#.utf8),
            Array(#"{"paused_at":5}"#.utf8), Array(#"{"paused_at":true}"#.utf8), Array(#"{"paused_at":{}}"#.utf8),
            Array(#"{"system_paused_at":"2026-01-01T00:00:00Z"}"#.utf8), Array(#"{"display_name":null}"#.utf8),
            // Duplicate keys: refused or applied, never half of each.
            Array(#"{"type":"platform.demo","display_name":"Dup A","display_name":"Dup B"}"#.utf8),
            Array(#"{"paused_at":"2026-01-01T00:00:00Z","paused_at":null}"#.utf8),
            // Overlong strings (the body stays under the 1 MiB limit).
            Array(#"{"type":"platform.demo","display_name":"\#(String(repeating: "a", count: 256))"}"#.utf8),
            Array(#"{"type":"platform.demo","display_name":"A","name":"\#(String(repeating: "b", count: 900_000))"}"#.utf8),
            Array(#"{"display_name":"\#(String(repeating: "é", count: 300_000))"}"#.utf8),
            Array(#"{"\#(String(repeating: "k", count: 500_000))":1}"#.utf8),
            // Timestamps out of range or malformed.
            Array(#"{"paused_at":"0000-01-01T00:00:00Z"}"#.utf8), Array(#"{"paused_at":"9999-12-31T23:59:60Z"}"#.utf8),
            Array(#"{"paused_at":"+275760-09-13T00:00:00Z"}"#.utf8), Array(#"{"paused_at":"2026-02-30T00:00:00Z"}"#.utf8),
            Array(#"{"paused_at":"2026-13-01T00:00:00Z"}"#.utf8), Array(#"{"paused_at":""}"#.utf8),
            Array(#"{"properties":{"anchor_time":"1969-12-31T23:59:59Z"}}"#.utf8),
            Array(#"{"properties":{"anchor_time":"99999-01-01T00:00:00Z"}}"#.utf8),
        ]
        // A thousand keys in one object.
        bodies.append(Array(("{" + (0..<1000).map { #""k\#($0)":\#($0)"# }.joined(separator: ",") + "}").utf8))
        return bodies
    }

    @Test("hand-picked hostile bodies on every route that reads one")
    func fixedBodies() async throws {
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Target"}"#).status == 200)
            for body in Self.fixed {
                _ = try await Self.expectRefusedOrApplied(api, .post, "/v4/sources", body)
                _ = try await Self.expectRefusedOrApplied(api, .put, "/v4/sources/1", body)
                _ = try await Self.expectRefusedOrApplied(api, .put, "/v4/sources/1/streams/metadata", body)
            }
        }
    }

    @Test("a duplicate key has no single meaning: refused, at any depth")
    func duplicateKeys() async throws {
        try await withAPI { api in
            let r = try await api.create(#"{"type":"platform.demo","display_name":"Dup A","display_name":"Dup B"}"#)
            #expect(r.status == 400)
            #expect(r.sourcesError.code == "InvalidBody")
            #expect(r.sourcesError.message == #"request body has the key "display_name" more than once"#)
            #expect(try await api.sourceCount() == 0)
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Ok"}"#).status == 200)
            let p = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z","paused_at":null}"#)
            #expect(p.status == 400)
            let nested = try await api.call(.put, "/v4/sources/1", body: #"{"properties":{"record_count":"1","record_count":"2"}}"#)
            #expect(nested.sourcesError.message == #"request body has the key "record_count" more than once"#)
            // The same key in two different objects is fine.
            let fine = try await api.call(
                .put, "/v4/sources/1", body: #"{"properties":{"record_count":"3"},"display_name":"Ok","x":[{"a":1},{"a":2}]}"#)
            #expect(fine.sourcesError.message?.contains("more than once") != true)
            #expect(try await api.store.source(id: 1)?.pausedAt == nil)
        }
    }

    /// A random JSON value, biased toward the keys and value shapes the API knows.
    static func value(_ rng: inout SplitMix64, depth: Int) -> String {
        let keys = [
            "type", "display_name", "name", "properties", "paused_at", "system_paused_at", "destination_id", "frequency_in_minutes",
            "anchor_time", "cron_expression", "record_count", "streams", "api_key", "tap_stream_id", "metadata", "breadcrumb",
            "selected", "", "ü",
        ]
        let strings = [
            "platform.demo", "Valid Name", "valid_name", "2026-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "60", "1", "45", "0 0 12 ? * *",
            "* * * * * *", "0 0 0 L-3W * ?", "*/0 * * ? * *", "0 0 12 ? * MON#6", "0 0 0 ? * * 2300", "", " ", "\\u0000", "\\ud800",
            "true", "users,orders", "9999999999",
        ]
        switch Int.random(in: 0..<(depth > 3 ? 6 : 9), using: &rng) {
        case 0: return "null"
        case 1: return Bool.random(using: &rng) ? "true" : "false"
        case 2: return ["0", "-1", "1.5", "1e308", "-1e309", "18446744073709551616", "60"].randomElement(using: &rng)!
        case 3, 4, 5: return "\"" + strings.randomElement(using: &rng)! + "\""
        case 6:
            return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in value(&rng, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            let members = (0..<Int.random(in: 0...5, using: &rng)).map { _ in
                "\"" + keys.randomElement(using: &rng)! + "\":" + value(&rng, depth: depth + 1)
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }

    @Test("random bodies: only Stitch-shaped 200s and 4xx, and a refusal changes nothing", arguments: [UInt64(101), 102])
    func randomBodies(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        let bodies = (0..<400).map { _ in
            // Mostly objects at the top, as real clients send.
            Array(
                (Int.random(in: 0..<10, using: &rng) == 0
                    ? Self.value(&rng, depth: 0)
                    : "{"
                        + (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                            [
                                "\"type\":\"platform.demo\"", "\"display_name\":\"R\(UInt16.random(in: 0...UInt16.max, using: &rng))\"",
                                "\"properties\":" + Self.value(&rng, depth: 1), "\"paused_at\":" + Self.value(&rng, depth: 3),
                                "\"streams\":" + Self.value(&rng, depth: 1), "\"name\":" + Self.value(&rng, depth: 3),
                            ].randomElement(using: &rng)!
                        }.joined(separator: ",") + "}").utf8)
        }
        let routes = bodies.map { _ in Int.random(in: 0..<3, using: &rng) }
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Target"}"#).status == 200)
            var statuses: [Int: Int] = [:]
            for (body, route) in zip(bodies, routes) {
                let status =
                    switch route {
                    case 0: try await Self.expectRefusedOrApplied(api, .post, "/v4/sources", body)
                    case 1: try await Self.expectRefusedOrApplied(api, .put, "/v4/sources/1", body)
                    default: try await Self.expectRefusedOrApplied(api, .put, "/v4/sources/1/streams/metadata", body)
                    }
                statuses[status, default: 0] += 1
            }
            // Some random bodies must have been valid, or the generator tests nothing but refusals.
            #expect(statuses[200, default: 0] > 5 && statuses[400, default: 0] > 100, "\(statuses)")
            #expect(try await api.store.integrityCheck() == ["ok"])
        }
    }
}
