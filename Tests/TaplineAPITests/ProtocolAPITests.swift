import Foundation
import HTTPTypes
import TaplineCore
import Testing

@testable import TaplineAPI

/// Authentication, limits, unknown routes and the source-types endpoints.
@Suite("API: protocol")
struct ProtocolAPITests {
    @Test(
        "missing, empty, malformed and wrong tokens are 401 on every route",
        arguments: [
            nil, "", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz", "Token \(testToken)", "Bearer wrong",
            "Bearer \(testToken)x", "Bearer \(testToken.dropLast())", "bearer",
        ])
    func unauthorized(_ header: String?) async throws {
        try await withAPI { api in
            for (method, path) in [
                (HTTPRequest.Method.get, "/v4/sources"), (.post, "/v4/sources"), (.get, "/v4/sources/1"),
                (.put, "/v4/sources/1"), (.delete, "/v4/sources/1"), (.get, "/v4/source-types"),
                (.get, "/v4/source-types/platform.demo"),
            ] {
                var headers = HTTPFields()
                if let header { headers[.authorization] = header }
                let r = try await api.call(
                    method, path, body: #"{"type":"platform.demo","display_name":"A"}"#, token: nil, headers: headers)
                #expect(r.status == 401, "\(method) \(path)")
                #expect(r.sourcesError.code == "Unauthorized")
            }
            #expect(try await api.sourceCount() == 0)
        }
    }

    @Test("every configured token works, the scheme is case-insensitive, and its name is recorded")
    func tokens() async throws {
        try await withAPI { api in
            #expect(try await api.call(.get, "/v4/sources", token: "ac_other").status == 200)
            let r = try await api.call(
                .post, "/v4/sources", body: #"{"type":"platform.demo","display_name":"A"}"#, token: nil,
                headers: [.authorization: "bearer ac_other"])
            #expect(r.status == 200)
            #expect(try await api.store.events(sourceID: 1).first?.actor == "ci")
        }
    }

    @Test("bodies over the limit are 413 and write nothing")
    func oversized() async throws {
        try await withAPI(maxBodyBytes: 4096) { api in
            let big = String(repeating: "a", count: 5000)
            let r = try await api.create(#"{"type":"platform.demo","display_name":"\#(big)"}"#)
            #expect(r.status == 413)
            #expect(r.sourcesError.code == "InvalidBody")
            #expect(r.sourcesError.message == "request body is larger than 4096 bytes")
            #expect(try await api.sourceCount() == 0)
        }
    }

    @Test("unknown routes and wrong methods are a Stitch-shaped 404")
    func notFound() async throws {
        try await withAPI { api in
            for (method, path) in [
                (HTTPRequest.Method.patch, "/v4/sources/1"), (.post, "/v4/sources/1"), (.get, "/v4/nothing"),
                (.get, "/v3/sources"), (.delete, "/v4/sources"),
            ] {
                let r = try await api.call(method, path)
                #expect(r.status == 404, "\(method) \(path)")
                #expect(r.sourcesError.code == "NotFound")
            }
        }
    }

    @Test("source types: report cards with details; unknown type is 404")
    func sourceTypes() async throws {
        try await withAPI { api in
            let list = try await api.call(.get, "/v4/source-types")
            #expect(list.status == 200)
            #expect(list.array.map { $0["type"] as? String } == ["platform.demo", "platform.postgres"])
            let pg = try await api.call(.get, "/v4/source-types/platform.postgres")
            let details = try #require(pg["details"] as? [String: Any])
            #expect(details["default_scheduling_interval"] as? Int == 30)
            #expect(details["access"] as? Bool == true)
            #expect(["alpha", "beta", "released", "deprecated"].contains(details["pipeline_state"] as? String ?? ""))
            let steps = try #require(pg["steps"] as? [[String: Any]])
            let form = try #require(steps.first?["properties"] as? [[String: Any]])
            let frequency = try #require(form.first { $0["name"] as? String == "frequency_in_minutes" })
            #expect((frequency["json_schema"] as? [String: Any])?["pattern"] as? String == "^1$|^30$|^60$")
            #expect(form.first { $0["name"] as? String == "host" }?["is_required"] as? Bool == true)
            let missing = try await api.call(.get, "/v4/source-types/platform.nope")
            #expect(missing.status == 404)
        }
    }

    @Test("responses are JSON with a charset")
    func contentType() async throws {
        try await withAPI { api in
            let response = try await api.client.execute(uri: "/v4/sources", method: .get, headers: [.authorization: "Bearer \(testToken)"])
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
        }
    }
}
