import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import TaplineCore
import TaplineRuntime
import TaplineStore
import TaplineStoreContract
import TaplineTestSupport
import Testing

@testable import TaplineAPI
@testable import TaplineConsole

let readOnlyToken = "ac_viewer_token_0123456789"

/// A browser as the console sees it: a cookie jar, an `Origin`, the session's CSRF token.
struct ConsoleBrowser: Sendable {
    let client: any TestClientProtocol
    let store: Store
    let jobs: RecordingJobControl
    var cookie: String?
    var origin: String?

    struct Page {
        let status: Int
        let headers: HTTPFields
        let text: String
        var location: String? { headers[.location] }
        /// The first CSRF token a form of the page carries.
        var csrf: String? {
            guard let range = text.range(of: #"name="csrf" value=""#) else { return nil }
            return String(text[range.upperBound...].prefix(while: { $0 != "\"" }))
        }
        func count(_ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }
    }

    func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> Page {
        try await send(.get, path, headers: extra)
    }

    func post(_ path: String, _ fields: [(String, String)], headers extra: HTTPFields = [:]) async throws -> Page {
        let body = FormFields(fields).encoded
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, headers: headers, body: body)
    }

    func send(_ method: HTTPRequest.Method, _ path: String, headers extra: HTTPFields = [:], body: String? = nil) async throws -> Page {
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = "tapline_session=\(cookie)" }
        if let origin, method != .get { headers[.origin] = origin }
        for field in extra { headers[field.name] = field.value }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// Signs in with `token`; the session cookie is kept.
    mutating func signIn(_ token: String = testToken) async throws -> Page {
        let page = try await post("/ui/signin", [("token", token), ("next", "/ui")])
        if let set = page.headers[.setCookie], let value = set.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last {
            cookie = String(value)
        }
        return page
    }

    /// Creates a source through the store, as the API would.
    func source(_ displayName: String, cron: String = "0 0 0 1 1 ?") async throws -> SourceRecord {
        let type = DemoSourceType.definition
        return try await store.createSource(
            NewSource(
                type: type.type, displayName: displayName,
                name: SourceName.derive(fromDisplayName: displayName) + "\(UInt32.random(in: 0...UInt32.max))",
                nameWasDerived: false, changes: try type.validate(properties: ["cron_expression": .string(cron)]), destinationID: nil),
            actor: Actor("tester"), now: clock.now)
    }
}

/// Runs `body` against the real router with the console on a live socket on 127.0.0.1.
func withConsole(_ body: @escaping @Sendable (ConsoleBrowser) async throws -> Void) async throws {
    let store = try Store.inMemory(catalog: SourceTypeCatalog(apiCatalogTypes)).withTestDestination()
    let jobs = RecordingJobControl()
    let dependencies = APIDependencies(
        store: store, tokens: TokenSet([("tester", testToken, false), ("viewer", readOnlyToken, true)]), stitchClientID: 116078,
        jobs: jobs, now: { clock.now })
    let router = API.router(dependencies)
    var logger = Logger(label: "tapline.console.test")
    logger.logLevel = .critical
    let console = Console(ConsoleDependencies(api: dependencies, logger: logger))
    console.addRoutes(to: router)
    let app = Application(router: router, logger: logger)
    try await app.test(.live) { client in
        try await body(ConsoleBrowser(client: client, store: store, jobs: jobs, cookie: nil, origin: "http://localhost"))
    }
}

@Suite("Console: pages, sessions and actions")
struct ConsoleTests {
    @Test("GET / sends a browser to /ui and keeps the JSON 404 for API clients")
    func rootRedirect() async throws {
        try await withConsole { browser in
            let html = try await browser.get("/", headers: [.accept: "text/html,application/xhtml+xml"])
            #expect(html.status == 303 && html.location == "/ui")
            let api = try await browser.get("/")
            #expect(api.status == 404 && api.text.contains(#""error":"NotFound""#))
        }
    }

    @Test("without a session every page goes to the sign-in form and back")
    func signInRequired() async throws {
        try await withConsole { browser in
            for path in ["/ui", "/ui/sources/1", "/ui/settings", "/ui/extractions/x", "/ui/events", "/ui?state=paused&page=2"] {
                let page = try await browser.get(path)
                #expect(page.status == 303, "\(path)")
                #expect(page.location?.hasPrefix("/ui/signin?next=") == true, "\(path)")
            }
            let form = try await browser.get("/ui/signin")
            #expect(form.status == 200 && form.text.contains(#"name="token""#))
        }
    }

    @Test("sign-in: a wrong token is refused without echo; a right one starts a session with a strict cookie")
    func signIn() async throws {
        try await withConsole { browser in
            var browser = browser
            let wrong = try await browser.signIn("ac_wrong_token_echo_me")
            #expect(wrong.status == 401 && wrong.headers[.setCookie] == nil)
            #expect(!wrong.text.contains("ac_wrong_token_echo_me"))
            let right = try await browser.signIn()
            #expect(right.status == 303 && right.location == "/ui")
            let cookie = try #require(right.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/ui"))
            #expect(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
            #expect(!cookie.contains(testToken))
            let list = try await browser.get("/ui")
            #expect(list.status == 200 && list.text.contains("Signed in as <strong>tester</strong>"))
            #expect(!list.text.contains(testToken), "the token never reaches a page")

            // Behind a TLS proxy the cookie is Secure.
            let tls = try await browser.post("/ui/signin", [("token", testToken)], headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(tls.headers[.setCookie]?.contains("; Secure") == true)
        }
    }

    @Test("sign-in from another site, or without an Origin, is refused")
    func signInOrigin() async throws {
        try await withConsole { browser in
            var other = browser
            other.origin = "http://evil.example"
            let fromElsewhere = try await other.signIn()
            #expect(fromElsewhere.status == 403)
            var none = browser
            none.origin = nil
            let fromNowhere = try await none.signIn()
            #expect(fromNowhere.status == 403)
        }
    }

    @Test("pages carry the CSP without inline script, deny frames, are not cached; user text is escaped")
    func headersAndEscaping() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let evil = try await browser.source("<script>alert(1)</script>")
            let list = try await browser.get("/ui")
            let csp = try #require(list.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"))
            #expect(list.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(list.headers[.cacheControl] == "no-store")
            #expect(!list.text.contains("<script>alert(1)</script>"))
            #expect(list.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!list.text.contains("<script>") || list.text.contains(#"<script src="/ui/assets/console.js"#))
            #expect(list.count("<script") == 1, "the console's own script only")
            #expect(list.text.contains(#"data-source-id="\#(evil.id)" data-state="scheduled""#))
            let page = try await browser.get("/ui/sources/\(evil.id)")
            #expect(page.status == 200 && !page.text.contains("<script>alert(1)</script>"))
        }
    }

    @Test("a pause from the list: refused without the CSRF token or from another origin; done with it, audited with the reason")
    func pauseAction() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let source = try await browser.source("Orders")
            let csrf = try #require(try await browser.get("/ui").csrf)
            let fields = [("action", "pause"), ("id", "\(source.id)"), ("reason", "warehouse maintenance"), ("back", "/ui")]

            #expect(try await browser.post("/ui/actions", fields).status == 403, "no CSRF token")
            // A token one character off (never the right one, whatever its first character is).
            let wrong = (csrf.first == "0" ? "1" : "0") + csrf.dropFirst()
            #expect(try await browser.post("/ui/actions", fields + [("csrf", wrong)]).status == 403, "a wrong one")
            var elsewhere = browser
            elsewhere.origin = "http://evil.example"
            #expect(try await elsewhere.post("/ui/actions", fields + [("csrf", csrf)]).status == 403, "another site")
            #expect(try await browser.store.source(id: source.id)?.pausedAt == nil, "nothing changed")

            let done = try await browser.post("/ui/actions", fields + [("csrf", csrf)])
            #expect(done.status == 303 && done.location == "/ui")
            let after = try #require(try await browser.store.source(id: source.id))
            #expect(after.pausedAt != nil && after.nextFireAt == nil)
            let event = try #require(try await browser.store.events(sourceID: source.id).last)
            #expect(event.kind == .paused && event.actor == "tester" && event.reason == "warehouse maintenance")
            let list = try await browser.get("/ui")
            #expect(list.text.contains("Paused 1 source (reason: warehouse maintenance)."), "the result is shown once")
            #expect(list.text.contains(#"data-source-id="\#(source.id)" data-state="paused""#))
            #expect(list.text.contains(#"data-action="resume""#))
            let page = try await browser.get("/ui/sources/\(source.id)")
            #expect(page.text.contains("paused by tester: warehouse maintenance"))

            // A back link to another site is not followed.
            let resumed = try await browser.post(
                "/ui/actions", [("action", "resume"), ("id", "\(source.id)"), ("csrf", csrf), ("back", "//evil.example/")])
            #expect(resumed.location == "/ui")
            #expect(try await browser.store.source(id: source.id)?.pausedAt == nil)
        }
    }

    @Test("run now and stop reach the job runner and the audit trail")
    func syncAndStop() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let source = try await browser.source("Runner")
            let csrf = try #require(try await browser.get("/ui").csrf)
            #expect(try await browser.post("/ui/actions", [("action", "sync"), ("id", "\(source.id)"), ("csrf", csrf)]).status == 303)
            #expect(browser.jobs.started.count == 1)
            let list = try await browser.get("/ui")
            #expect(list.text.contains(#"data-running="true""#) && list.text.contains(#"data-action="stop""#))
            #expect(try await browser.post("/ui/actions", [("action", "stop"), ("id", "\(source.id)"), ("csrf", csrf)]).status == 303)
            #expect(browser.jobs.stopped == [source.id])
            let kinds = try await browser.store.events(sourceID: source.id).map(\.kind)
            #expect(kinds.suffix(2) == [.manualStart, .stopRequested])
        }
    }

    @Test("bulk: a confirmation names the count first; then every source is paused with the reason")
    func bulkPause() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            var ids: [Int64] = []
            for i in 0..<3 { ids.append(try await browser.source("Bulk \(i)").id) }
            _ = try await browser.source("Other")
            let csrf = try #require(try await browser.get("/ui").csrf)
            let fields = [("action", "pause"), ("csrf", csrf)] + ids.map { ("id", "\($0)") }
            let confirm = try await browser.post("/ui/actions", fields)
            #expect(confirm.status == 200 && confirm.text.contains("Pause 3 sources?"))
            #expect(try await browser.store.allSources().allSatisfy { $0.pausedAt == nil }, "nothing before the confirmation")
            #expect(try await browser.post("/ui/actions", fields + [("confirmed", "1"), ("reason", "quarter end")]).status == 303)
            let sources = try await browser.store.allSources()
            #expect(sources.filter { $0.pausedAt != nil }.map(\.id).sorted() == ids)
            for id in ids { #expect(try await browser.store.events(sourceID: id).last?.reason == "quarter end") }

            // Everything a filter matches: the search "Bulk" resumes the three, not "Other".
            let filter = [("action", "resume"), ("csrf", csrf), ("all_matching", "1"), ("q", "Bulk"), ("state", "all")]
            let ask = try await browser.post("/ui/actions", filter)
            #expect(ask.text.contains("Resume 3 sources (every source the filter matches now)?"))
            #expect(try await browser.post("/ui/actions", filter + [("confirmed", "1")]).status == 303)
            #expect(try await browser.store.allSources().allSatisfy { $0.pausedAt == nil })
        }
    }

    @Test("a read-only token reads everything and changes nothing, in the console and the API")
    func readOnly() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn(readOnlyToken)
            let source = try await browser.source("Watched")
            let list = try await browser.get("/ui")
            #expect(list.status == 200 && list.text.contains("read-only"))
            #expect(!list.text.contains("data-action="), "no action is offered")
            let csrf = try #require(list.csrf, "the sign-out form still carries it")
            let refused = try await browser.post("/ui/actions", [("action", "pause"), ("id", "\(source.id)"), ("csrf", csrf)])
            #expect(refused.status == 403 && refused.text.contains("read-only"))
            #expect(try await browser.get("/ui/sources/new").status == 403)
            #expect(try await browser.store.source(id: source.id)?.pausedAt == nil)

            let put = try await browser.client.execute(
                uri: "/v4/sources/\(source.id)", method: .put,
                headers: [.authorization: "Bearer \(readOnlyToken)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"paused_at": "2026-01-01T00:00:00Z"}"#))
            #expect(put.status == .forbidden)
            #expect(String(buffer: put.body).contains(#""error":"Forbidden""#))
            let get = try await browser.client.execute(
                uri: "/v4/sources/\(source.id)", method: .get, headers: [.authorization: "Bearer \(readOnlyToken)"])
            #expect(get.status == .ok)
            #expect(try await browser.store.source(id: source.id)?.pausedAt == nil)
        }
    }

    @Test("the list is paged, filtered and searched on the server")
    func paging() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            for i in 0..<120 { _ = try await browser.source(String(format: "Feed %03d", i)) }
            let first = try await browser.get("/ui")
            #expect(first.count("<tr data-source-id=") == 50 && first.text.contains("Page 1 of 3"))
            let third = try await browser.get("/ui?page=3")
            #expect(third.count("<tr data-source-id=") == 20 && third.text.contains("Feed 119"))
            let search = try await browser.get("/ui?q=feed+01")
            #expect(search.count("<tr data-source-id=") == 10)
            let paused = try await browser.get("/ui?state=paused")
            #expect(paused.count("<tr data-source-id=") == 0 && paused.text.contains("No source matches this filter."))
            let beyond = try await browser.get("/ui?page=999")
            #expect(beyond.text.contains("Page 3 of 3"), "a page past the end shows the last")
        }
    }

    @Test("sign-out ends the session on the server")
    func signOut() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let csrf = try #require(try await browser.get("/ui").csrf)
            let out = try await browser.post("/ui/signout", [("csrf", csrf)])
            #expect(out.status == 303 && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await browser.get("/ui").status == 303, "the old cookie no longer works")
        }
    }

    @Test("add a source from its type's form; the API's error is shown beside the field; credentials never echoed")
    func addSource() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let form = try await browser.get("/ui/sources/new?type=platform.postgres")
            #expect(form.status == 200 && form.text.contains(#"name="p.host""#) && form.text.contains(#"type="password""#))
            let csrf = try #require(form.csrf)
            let bad = try await browser.post(
                "/ui/sources/new",
                [
                    ("csrf", csrf), ("type", "platform.postgres"), ("display_name", "Warehouse"), ("p.host", "db"), ("p.port", "five"),
                    ("p.password", "hunter2-secret"),
                ])
            #expect(bad.status == 400 && bad.text.contains("properties do not match schema: port"))
            #expect(bad.text.contains(#"data-property="port""#) && bad.text.contains("Not accepted"))
            #expect(!bad.text.contains("hunter2-secret"), "a credential is never sent back")
            #expect(bad.text.contains(#"value="db""#), "what was typed is kept")
            let good = try await browser.post(
                "/ui/sources/new",
                [
                    ("csrf", csrf), ("type", "platform.postgres"), ("display_name", "Warehouse"), ("p.host", "db"), ("p.port", "5432"),
                    ("p.password", "hunter2-secret"),
                ])
            #expect(good.status == 303)
            let created = try #require(try await browser.store.allSources().first { $0.displayName == "Warehouse" })
            #expect(created.credentials["password"] == "hunter2-secret" && created.properties["port"] == "5432")
            #expect(good.location == "/ui/sources/\(created.id)")
            let edit = try await browser.get("/ui/sources/\(created.id)/edit")
            #expect(!edit.text.contains("hunter2-secret") && edit.text.contains("set; leave blank to keep it"))
            // Blank keeps the credential; a changed property is saved.
            let saved = try await browser.post(
                "/ui/sources/\(created.id)/edit",
                [("csrf", csrf), ("display_name", "Warehouse"), ("p.host", "db2"), ("p.port", "5432"), ("p.password", "")])
            #expect(saved.status == 303)
            let after = try #require(try await browser.store.source(id: created.id))
            #expect(after.properties["host"] == "db2" && after.credentials["password"] == "hunter2-secret")
        }
    }

    @Test("the log page renders the tail and the tail continues from a byte offset, whole lines once")
    func logTail() async throws {
        try await withConsole { browser in
            var browser = browser
            _ = try await browser.signIn()
            let source = try await browser.source("Logged")
            guard
                case .started(let job, _) = try await browser.store.startManualJob(
                    sourceID: source.id, now: clock.now, jobName: "1.\(source.id).log")
            else {
                Issue.record("no start")
                return
            }
            let path = NSTemporaryDirectory() + "tapline-console-log-\(UUID().uuidString).log"
            defer { unlink(path) }
            try "2026-11-29 10:00:00,000Z tap - INFO one\n2026-11-29 10:00:00,001Z tap - CRITICAL <b>boom</b>\npartial".write(
                toFile: path, atomically: true, encoding: .utf8)
            try await browser.store.recordSpawned([SpawnedJob(jobID: job.id, processGroup: 999_999, spawnedAt: clock.now, logPath: path)])
            let page = try await browser.get("/ui/extractions/\(job.jobName)")
            #expect(page.status == 200 && page.text.contains("INFO one"))
            #expect(page.text.contains("Critical lines") && page.text.contains("&lt;b&gt;boom&lt;/b&gt;"))
            #expect(!page.text.contains("partial"), "a line still being written waits for its end")
            let offset = "2026-11-29 10:00:00,000Z tap - INFO one\n2026-11-29 10:00:00,001Z tap - CRITICAL <b>boom</b>\n".utf8.count
            #expect(page.text.contains(#"data-offset="\#(offset)""#))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(" line ends\nnext\n".utf8))
            try handle.close()
            let tail = try await browser.get("/ui/extractions/\(job.jobName)/tail?offset=\(offset)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(tail.text.utf8)) as? [String: Any])
            #expect(json["lines"] as? [String] == ["partial line ends", "next"])
            let end = try #require(json["offset"] as? Int)
            let again = try await browser.get("/ui/extractions/\(job.jobName)/tail?offset=\(end)")
            #expect(again.text.contains(#""lines":[]"#), "nothing is sent twice")
            let raw = try await browser.get("/ui/extractions/\(job.jobName)/raw")
            #expect(raw.status == 200 && raw.text.hasSuffix("next\n") && raw.headers[.contentDisposition]?.contains("attachment") == true)
        }
    }

    @Test("the live stream opens for a session, and is capped")
    func liveStream() async throws {
        try await withConsole { browser in
            var browser = browser
            #expect(try await browser.get("/ui/events").status == 303)
            _ = try await browser.signIn()
            let settings = try await browser.get("/ui/settings")
            #expect(settings.status == 200 && settings.text.contains("A single node") && settings.text.contains("jsonl"))
            let missing = try await browser.get("/ui/sources/999")
            #expect(missing.status == 404 && missing.headers[.contentType]?.hasPrefix("text/html") == true)
            let unknown = try await browser.get("/ui/nope")
            #expect(unknown.status == 404 && unknown.text.contains("no console page"))
        }
    }
}

/// The list's rules, without a database.
@Suite("Console: the list's filters, counts and order")
struct SourceListingTests {
    static let now = Timestamp.parse("2026-11-29T10:00:00Z")!

    static func overview(_ id: Int64, _ name: String, configure: (inout SourceOverview) -> Void = { _ in }) -> SourceOverview {
        var o = SourceOverview(id: id, name: name.lowercased(), displayName: name, type: "platform.demo", createdAt: now)
        o.nextFireAt = now.addingTimeInterval(Double(id) * 60)
        configure(&o)
        return o
    }

    static let rows: [SourceOverview] = [
        overview(1, "Alpha") { $0.running = .init(name: "j", status: .running, startedAt: now) },
        overview(2, "beta") {
            $0.pausedAt = now
            $0.nextFireAt = nil
        },
        overview(3, "Gamma") {
            $0.systemPausedAt = now
            $0.nextFireAt = nil
            $0.last = .init(name: "g", status: .failed, startedAt: now.addingTimeInterval(-100), completedAt: now.addingTimeInterval(-90))
            $0.lastFailureAt = now.addingTimeInterval(-90)
        },
        overview(4, "Delta") {
            // Failed yesterday morning, succeeded since: failed in 24 h, but the last run did not fail.
            $0.last = .init(name: "d", status: .succeeded, startedAt: now.addingTimeInterval(-50), completedAt: now.addingTimeInterval(-40))
            $0.lastFailureAt = now.addingTimeInterval(-3600)
        },
        overview(5, "Epsilon") { $0.nextFireAt = nil },
    ]

    @Test("counts over everything; running is apart from the pause state")
    func counts() {
        let c = SourceListing.make(Self.rows, query: SourceListQuery(), now: Self.now).counts
        #expect(c.total == 5 && c.running == 1 && c.scheduled == 2 && c.paused == 1 && c.systemPaused == 1 && c.unscheduled == 1)
        #expect(c.lastFailed == 1 && c.failed24h == 2)
    }

    @Test(
        "each filter keeps what its label says",
        arguments: [
            ("running", [Int64(1)]), ("scheduled", [1, 4]), ("paused", [2]), ("system_paused", [3]), ("unscheduled", [5]),
            ("failed", [3]), ("failed_24h", [3, 4]), ("all", [1, 2, 3, 4, 5]),
        ])
    func filters(state: String, ids: [Int64]) {
        let query = SourceListQuery(FormFields([("state", state)]))
        #expect(SourceListing.make(Self.rows, query: query, now: Self.now).matching.map(\.id).sorted() == ids)
    }

    @Test("sorts: by name case-insensitively, by next due (none last), by last start (running first)")
    func sorts() {
        func order(_ sort: String) -> [Int64] {
            SourceListing.make(Self.rows, query: SourceListQuery(FormFields([("sort", sort)])), now: Self.now).matching.map(\.id)
        }
        #expect(order("name") == [1, 2, 4, 5, 3])
        #expect(order("next") == [1, 4, 2, 3, 5])
        #expect(order("last") == [1, 4, 3, 2, 5], "never ran: by id")
    }

    @Test("a query reads back what it wrote; bad values fall back to defaults")
    func queryRoundTrip() {
        let query = SourceListQuery(FormFields(encoded: "state=paused&q=a+b&sort=next&page=3&per_page=999"))
        #expect(query.state == .paused && query.search == "a b" && query.sort == .nextRun && query.page == 3)
        #expect(query.perPage == SourceListQuery.maxPerPage)
        #expect(SourceListQuery(FormFields(encoded: Substring(query.encoded()))) == query)
        let junk = SourceListQuery(FormFields(encoded: "state=%ZZ&page=-4&sort=drop+table"))
        #expect(junk.state == .all && junk.page == 1 && junk.sort == .name)
    }
}

@Suite("Console: log text and tokens")
struct ConsoleLogTextTests {
    @Test("critical lines are those of a CRITICAL or FATAL level, not any mention")
    func critical() {
        #expect(LogText.isCritical("2026-11-29 10:00:00,000Z tap - CRITICAL connection refused"))
        #expect(LogText.isCritical("2026-11-29 10:00:00,000Z tap - 2026-11-29 | CRITICAL | tap-x | failed"))
        #expect(!LogText.isCritical("2026-11-29 10:00:00,000Z tap - INFO no CRITICALITY here"))
    }

    @Test("the token file marks a token read-only")
    func readOnlyTokens() throws {
        let entries = try TokenFile.parse("ops:ac_one\nviewer:ac_two read-only\nac_three\n", path: "t")
        #expect(entries.map(\.readOnly) == [false, true, false])
        #expect(entries.map(\.name) == ["ops", "viewer", "default"])
        #expect(throws: TokenFile.Failure.self) { try TokenFile.parse("viewer:ac_two readonly\n", path: "t") }
        let set = TokenSet(entries.map { ($0.name, $0.token, $0.readOnly) })
        #expect(set.identity(of: "ac_two") == TokenSet.Identity(name: "viewer", readOnly: true))
    }
}
