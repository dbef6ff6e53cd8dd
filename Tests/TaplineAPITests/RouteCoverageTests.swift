import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TaplineCore
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI

/// Checks that hold for every route the router has, found by asking the router, so a route added
/// later is covered without editing a list here.
@Suite("API: every route")
struct RouteCoverageTests {
    /// Routes that answer without a token.
    static let publicRoutes: Set<String> = ["GET /healthz", "GET /metrics", "GET /openapi.yaml"]

    struct NoMetrics: APIMetrics {
        func request(route: String, method: String, status: Int, seconds: TimeInterval) {}
        func render() -> String { "" }
    }

    /// The full router (metrics included), as the daemon builds it.
    static func routes() throws -> [(method: String, path: String)] {
        let store = try Store.inMemory(catalog: SourceTypeCatalog(apiCatalogTypes)).withTestDestination()
        let router = API.router(APIDependencies(store: store, tokens: TokenSet([("t", testToken)]), metrics: NoMetrics()))
        return router.routes.map { (method: $0.method.rawValue, path: $0.path.description) }
    }

    /// A concrete URL for a route pattern: each `{parameter}` gets a value that names something real.
    static func concrete(_ pattern: String) -> String {
        pattern
            .replacingOccurrences(of: "{id}", with: "1")
            .replacingOccurrences(of: "{client}", with: "116078")
            .replacingOccurrences(of: "{type}", with: "platform.demo")
            .replacingOccurrences(of: "{job}", with: "job")
            .replacingOccurrences(of: "{stream}", with: "users")
    }

    /// `(METHOD, /path)` pairs of the OpenAPI document, read line by line: paths are the keys
    /// indented by two spaces under `paths:`, operations the HTTP-method keys under them.
    static func documentedOperations(_ yaml: String) -> Set<String> {
        var operations = Set<String>()
        var inPaths = false
        var current: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if let current, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if ["get", "put", "post", "delete", "patch"].contains(key) {
                    operations.insert("\(key.uppercased()) \(current)")
                }
            }
        }
        return operations
    }

    @Test("the router has the routes this suite expects to exercise")
    func routerIsNotEmpty() throws {
        let routes = try Self.routes()
        #expect(routes.count >= 20, "\(routes)")
        #expect(routes.contains { $0.method == "PUT" && $0.path == "/v4/sources/{id}" })
    }

    @Test("every protected route refuses missing, empty, malformed and wrong tokens, and echoes none of them")
    func everyRouteNeedsAToken() async throws {
        let protected = try Self.routes().filter { !Self.publicRoutes.contains("\($0.method) \($0.path)") }
        #expect(protected.count >= 17)
        let bad: [String?] = [
            nil, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer wrong-token-value", "Bearer \(testToken)x",
            "Bearer \(testToken.dropLast())", "Token \(testToken)", "Bearer \u{7f}", "Bearer \(String(repeating: "a", count: 4000))",
        ]
        try await withAPI { api in
            #expect(try await api.create(#"{"type":"platform.demo","display_name":"Kept"}"#).status == 200)
            for route in protected {
                for header in bad {
                    var headers = HTTPFields()
                    if let header { headers[.authorization] = header }
                    let r = try await api.call(
                        HTTPRequest.Method(route.method)!, Self.concrete(route.path),
                        body: #"{"paused_at":"2026-01-01T00:00:00Z","streams":[]}"#, token: nil, headers: headers)
                    #expect(r.status == 401, "\(route.method) \(route.path) with \(header ?? "no header")")
                    #expect(r.sourcesError.code == "Unauthorized")
                    if let header, header.count > 8 {
                        #expect(!r.text.contains(header.dropFirst(7)), "the error body echoes the token")
                    }
                }
            }
            // Nothing was written: the one source is unchanged and has only its creation event.
            let source = try #require(try await api.store.source(id: 1))
            #expect(source.pausedAt == nil && source.deletedAt == nil)
            #expect(try await api.store.events(sourceID: 1).count == 1)
            #expect(api.jobs.started.isEmpty && api.jobs.stopped.isEmpty)
        }
    }

    @Test("public routes answer without a token")
    func publicRoutesAnswer() async throws {
        try await withAPI { api in
            let r = try await api.call(.get, "/openapi.yaml", token: nil)
            #expect(r.status == 200)
            #expect(r.text.hasPrefix("openapi: 3.0.3"))
            #expect(try await api.call(.get, "/healthz", token: nil).status == 200)
        }
    }

    @Test("openapi.yaml documents exactly the router's routes")
    func documentMatchesRouter() throws {
        let routes = Set(try Self.routes().map { "\($0.method) \($0.path)" })
        let documented = Self.documentedOperations(OpenAPIDocument.yaml)
        #expect(routes.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented but not routed: \(documented.subtracting(routes).sorted())")
    }
}
