import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// The web console, served at `/ui` on the API's listener (DESIGN §8).
///
/// Pages are rendered on the server and work without JavaScript: every action is a `<form>`
/// that posts and is redirected back (303). The console's one script adds live updates (a
/// server-sent event stream per page, fed by `ConsoleFeed`), local times and the log's tail.
/// It acts on the store through the same operations as the API, so a pause from the console is
/// the same committed, durable pause as a `PUT`, recorded in the audit trail under the signed-in
/// token's name with the reason given.
public final class Console: Sendable {
    let dependencies: ConsoleDependencies
    let sessions = ConsoleSessions()
    let feed: ConsoleFeed
    let overviews: OverviewCache
    let renderer = ConsoleRenderer()

    var api: APIDependencies { dependencies.api }
    var store: any APIStore { dependencies.api.store }
    var logger: Logger { dependencies.logger }

    static let cookieName = "tapline_session"
    /// Largest form body the console reads.
    static let maxFormBytes = 256 * 1024

    public init(_ dependencies: ConsoleDependencies) {
        self.dependencies = dependencies
        feed = ConsoleFeed(store: dependencies.api.store, capacity: dependencies.liveCapacity, logger: dependencies.logger)
        overviews = OverviewCache(store: dependencies.api.store, feed: feed)
        dependencies.api.store.observe(feed)
    }

    /// How many pages hold a live stream now.
    public var liveStreams: Int { feed.listening }

    /// Adds `/` (a browser is sent to the console) and every `/ui` route.
    public func addRoutes(to router: Router<TaplineRequestContext>) {
        router.get("/") { request, _ -> Response in
            // A browser asks for HTML; an API client keeps Stitch's JSON 404.
            guard request.headers[.accept]?.contains("text/html") == true else {
                throw APIError.sources(.notFound, code: "NotFound", message: "no such route; the API is under /v4, the console at /ui")
            }
            return .redirect("/ui")
        }
        // Browsers ask for it on every page; there is none, and "none" is not an error.
        router.get("favicon.ico") { _, _ in Response(status: .noContent) }
        let ui = router.group("ui").add(middleware: ConsoleMiddleware(console: self))
        ui.get("assets/console.css") { _, _ in Self.asset(ConsoleRenderer.css, type: "text/css; charset=utf-8") }
        ui.get("assets/console.js") { _, _ in Self.asset(ConsoleRenderer.script, type: "text/javascript; charset=utf-8") }
        ui.get("signin", use: signInPage)
        ui.post("signin", use: signIn)
        ui.post("signout", use: signOut)
        ui.get("", use: sourcesPage)
        ui.post("actions", use: act)
        ui.get("events", use: events)
        ui.get("sources/new", use: newSourcePage)
        ui.post("sources/new", use: createSource)
        ui.get("sources/:id", use: sourcePage)
        ui.get("sources/:id/edit", use: editSourcePage)
        ui.post("sources/:id/edit", use: updateSource)
        ui.post("sources/:id/streams", use: selectStreams)
        ui.post("sources/:id/state/reset", use: resetState)
        ui.get("extractions/:job", use: logPage)
        ui.get("extractions/:job/tail", use: logTail)
        ui.get("extractions/:job/raw", use: rawLog)
        ui.get("settings", use: settingsPage)
        ui.get("**") { request, _ -> Response in throw ConsoleError.notFound("there is no console page at \(request.uri.path)") }
    }

    // MARK: Shared pieces

    static func asset(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        // The URL carries the content's version, so the asset can be kept.
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        secure(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The headers every console answer carries: no script, style or frame from elsewhere and
    /// none inline, never framed, never sniffed, never cached.
    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }

    /// The frame of a page for `session`.
    func layout(_ title: String, session: ConsoleSessions.Session?, section: String = "sources", live: Bool = false) async
        -> LayoutModel
    {
        var model = LayoutModel(title: title)
        model.section = section
        model.live = live
        if let session {
            model.signedIn = true
            model.actor = session.identity.name
            model.readOnly = session.identity.readOnly
            model.csrf = session.csrf
            model.flash = sessions.takeFlash(id: session.id)
        }
        let storeOK = await Self.reachable(store, within: .seconds(1))
        let loopOK = api.health?.isLoopAlive(now: api.now()) ?? true
        var problems: [String] = []
        if !storeOK { problems.append("store unreachable") }
        if !loopOK { problems.append("scheduler loop stalled") }
        if let node = api.node {
            model.nodeName = node.nodeName
            if node.heldEpoch == nil { problems.append("lease not held") }
        }
        model.healthOK = problems.isEmpty
        model.healthText = problems.isEmpty ? "healthy" : problems.joined(separator: ", ")
        return model
    }

    /// Whether the store answers a trivial read within `limit`: the header never holds a page
    /// longer than that, whatever the database does.
    static func reachable(_ store: any APIStore, within limit: Duration) async -> Bool {
        // Unstructured: a read stuck in the database must not hold the page (a task group would
        // wait for it).
        let answered = AnswerOnce()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            @Sendable func answer(_ value: Bool) {
                let first = answered.flag.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            Task { answer((try? await store.isReachable()) == true) }
            Task {
                try? await Task.sleep(for: limit)
                answer(false)
            }
        }
    }

    /// The form fields of a POST, bounded.
    static func form(_ request: Request) async throws -> FormFields {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxFormBytes)
        } catch {
            throw ConsoleError(status: .contentTooLarge, title: "Too large", message: "the form is larger than \(maxFormBytes) bytes")
        }
        return FormFields(encoded: Substring(String(decoding: buffer.readableBytesView, as: UTF8.self)))
    }

    static func query(_ request: Request) -> FormFields {
        FormFields(encoded: Substring(request.uri.query ?? ""))
    }

    /// Where to go back to after an action: a console path only (never another site).
    static func back(_ fields: FormFields, fallback: String = "/ui") -> String {
        guard let back = fields["back"], isConsolePath(back) else { return fallback }
        return back
    }

    static func isConsolePath(_ path: String) -> Bool {
        (path == "/ui" || path.hasPrefix("/ui/") || path.hasPrefix("/ui?")) && !path.contains("//") && !path.contains("\\")
            && !path.contains(where: { $0.isNewline })
    }

    static func sourceID(_ context: TaplineRequestContext) throws -> Int64 {
        let raw = context.parameters.get("id") ?? ""
        guard let id = CanonicalID.parse(raw) else { throw ConsoleError.notFound("there is no source \(raw)") }
        return id
    }
}

/// A flag set once, shared by the two racers of `Console.reachable`.
private final class AnswerOnce: Sendable {
    let flag = Mutex(false)
}

/// Answers every `/ui` error as a page: a missing session with the sign-in form, the store out of
/// reach with a 503 that says so, anything unexpected with a 500 whose details stay in the log.
struct ConsoleMiddleware: RouterMiddleware {
    typealias Context = TaplineRequestContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ConsoleError {
            if let location = error.location { return .redirect(location) }
            return await console.errorPage(error, request: request)
        } catch let error as APIError {
            let message = Self.message(of: error) ?? error.status.reasonPhrase
            return await console.errorPage(ConsoleError(status: error.status, title: "Not accepted", message: message), request: request)
        } catch let error as HTTPError {
            return await console.errorPage(
                ConsoleError(status: error.status, title: error.status.reasonPhrase, message: error.body ?? error.status.reasonPhrase),
                request: request)
        } catch {
            if let reason = console.api.unavailable(error) {
                return await console.errorPage(
                    ConsoleError(status: .serviceUnavailable, title: "Unavailable", message: reason, retryAfter: 1), request: request)
            }
            context.logger.error("console request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return await console.errorPage(
                ConsoleError(
                    status: .internalServerError, title: "Internal error", message: "internal error; the daemon's log has the details"),
                request: request)
        }
    }

    /// The message of a Stitch-shaped error body.
    static func message(of error: APIError) -> String? {
        guard case .object(let fields) = error.body else { return nil }
        for (key, value) in fields {
            if key == "data" || key == "error", case .object(let inner) = value {
                for (innerKey, innerValue) in inner where innerKey == "message" {
                    if case .string(let text) = innerValue { return text }
                }
            }
        }
        return nil
    }
}

extension Console {
    struct MessageModel {
        var title: String
        var message: String
        var status: Int
    }

    func errorPage(_ error: ConsoleError, request: Request) async -> Response {
        let session = try? currentSession(request)
        let model = MessageModel(title: error.title, message: error.message, status: Int(error.status.code))
        var response = Response.page(
            renderer.page("message", model, layout: await layout(error.title, session: session ?? nil)), status: error.status)
        if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
        return response
    }
}
