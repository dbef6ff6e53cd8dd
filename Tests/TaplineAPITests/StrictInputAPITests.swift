import Foundation
import HTTPTypes
import TaplineCore
import Testing

@testable import TaplineAPI

/// Parsing in the right places: one name per resource, strict JSON bodies, clean display names,
/// and every ISO 8601 instant for a pause.
@Suite("API: strict input")
struct StrictInputAPITests {
    static let demo = #"{"type":"platform.demo","display_name":"Shop","properties":{"record_count":"5"}}"#

    @Test("non-canonical ids are not a source: 01, +1, 1%20")
    func canonicalIDs() async throws {
        try await withAPI { api in
            #expect(try await api.create(Self.demo).status == 200)
            #expect(try await api.call(.get, "/v4/sources/1").status == 200)
            for path in ["/v4/sources/01", "/v4/sources/+1", "/v4/sources/1%20", "/v4/sources/001/jobs"] {
                let r = try await api.call(.get, path)
                #expect(r.status == 404 || r.status == 400, "\(path): \(r.status)")
                #expect(!r.text.contains(#""id":1"#), "\(path) answered source 1")
            }
            #expect(try await api.call(.put, "/v4/sources/01", body: #"{"paused_at":"2026-01-01T00:00:00Z"}"#).status == 400)
            #expect(try await api.call(.post, "/v4/sources/+1/sync").status == 400)
            #expect(try await api.call(.get, "/v4/sources/1").object["paused_at"] is NSNull, "nothing was paused")
        }
    }

    @Test("a trailing comma is not JSON: 400 InvalidBody, nothing written")
    func trailingComma() async throws {
        try await withAPI { api in
            let r = try await api.create(#"{"type":"platform.demo","display_name":"Shop",}"#)
            #expect(r.status == 400 && r.sourcesError.code == "InvalidBody")
            #expect(try await api.sourceCount() == 0)
            #expect(try await api.create(Self.demo).status == 200)
            let put = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"2026-01-01T00:00:00Z",}"#)
            #expect(put.status == 400 && put.sourcesError.code == "InvalidBody")
            #expect(try await api.call(.get, "/v4/sources/1").object["paused_at"] is NSNull)
        }
    }

    @Test("control characters in a display name, NUL anywhere included, are a Stitch-shaped 400")
    func controlCharacters() async throws {
        try await withAPI { api in
            for name in [#"\u0000Shop"#, #"Sh\u0000op"#, #"Shop\n"#, #"a\tb"#] {
                let r = try await api.create(#"{"type":"platform.demo","display_name":"\#(name)"}"#)
                #expect(r.status == 400 && r.sourcesError.code == "InvalidDisplayName", "\(name): \(r.text)")
            }
            #expect(try await api.sourceCount() == 0)
            #expect(try await api.create(Self.demo).status == 200)
            let r = try await api.call(.put, "/v4/sources/1", body: #"{"display_name":"x\u0000y"}"#)
            #expect(r.status == 400 && r.sourcesError.message?.contains("U+0000") == true, "\(r.text)")
            #expect(try await api.call(.get, "/v4/sources/1").object["display_name"] as? String == "Shop")
        }
    }

    @Test("paused_at takes every ISO 8601 instant: the basic form and years before 1970 pause too")
    func pauseInstants() async throws {
        try await withAPI { api in
            #expect(try await api.create(Self.demo).status == 200)
            let basic = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"20190601T000000Z"}"#)
            #expect(basic.status == 200 && basic["paused_at"] as? String == "2019-06-01T00:00:00Z" && basic["schedule"] is NSNull)
            _ = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":null}"#)
            let old = try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"1969-07-20T20:17:00Z"}"#)
            #expect(old.status == 200 && old["paused_at"] as? String == "1969-07-20T20:17:00Z")
            #expect(try await api.call(.get, "/v4/sources/1")["paused_at"] as? String == "1969-07-20T20:17:00Z")
            #expect(try await api.call(.put, "/v4/sources/1", body: #"{"paused_at":"yesterday"}"#).status == 400)
        }
    }

    @Test("stitch_connect_client 0.6.2 sends a copy of properties as destination_id: read as not given; other non-integers refused")
    func clientDestinationQuirk() async throws {
        try await withAPI { api in
            let quirk = try await api.create(
                #"{"type":"platform.demo","display_name":"A","properties":{"record_count":"5"},"destination_id":{"record_count":"5"}}"#)
            #expect(quirk.status == 200 && quirk["destination_id"] is NSNull, "\(quirk.text)")
            let other = try await api.create(#"{"type":"platform.demo","display_name":"B","properties":{},"destination_id":{"x":1}}"#)
            #expect(other.status == 400 && other.sourcesError.code == "InvalidBody")
        }
    }
}
