import Foundation
import HTTPTypes
import Hummingbird
import TaplineAPI
import TaplineCore

/// Signing in and out, and the checks every request passes: a live session for a page; for a
/// change, also the same origin, the session's CSRF token and a token that may write.
extension Console {
    struct SignInModel {
        var next: String
        var error: String?
    }

    @Sendable func signInPage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let next = Self.query(request)["next"].flatMap { Self.isConsolePath($0) ? $0 : nil } ?? "/ui"
        if try currentSession(request) != nil { return .redirect(next) }
        return .page(renderer.page("signin", SignInModel(next: next), layout: await layout("Sign in", session: nil)))
    }

    @Sendable func signIn(request: Request, context: TaplineRequestContext) async throws -> Response {
        // No session yet, so no CSRF token: the origin check alone keeps another site from
        // signing a browser in.
        try checkOrigin(request)
        let fields = try await Self.form(request)
        let next = fields["next"].flatMap { Self.isConsolePath($0) ? $0 : nil } ?? "/ui"
        let token = (fields["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, let identity = api.tokens.identity(of: token) else {
            let model = SignInModel(next: next, error: "That token is not one of this daemon's API tokens.")
            return .page(renderer.page("signin", model, layout: await layout("Sign in", session: nil)), status: .unauthorized)
        }
        let session = sessions.create(identity: identity, token: token, now: api.now())
        context.logger.info("console session started", metadata: ["token.name": "\(identity.name)"])
        var response = Response.redirect(next)
        response.headers[.setCookie] = cookie(session.id, request: request, maxAge: Int(sessions.absoluteLimit))
        return response
    }

    @Sendable func signOut(request: Request, context: TaplineRequestContext) async throws -> Response {
        let fields = try await Self.form(request)
        if let session = try currentSession(request) {
            try checkOrigin(request)
            try checkCSRF(fields, session: session)
            sessions.end(id: session.id)
            context.logger.info("console session ended", metadata: ["token.name": "\(session.identity.name)"])
        }
        var response = Response.redirect("/ui/signin")
        response.headers[.setCookie] = cookie("", request: request, maxAge: 0)
        return response
    }

    // MARK: Checks

    /// The session the request's cookie names, if it is live.
    func currentSession(_ request: Request) throws -> ConsoleSessions.Session? {
        guard let id = Self.cookieValue(request.headers[values: .cookie], name: Self.cookieName), !id.isEmpty else { return nil }
        return sessions.session(id: id, now: api.now())
    }

    /// The session of a request that reads; without one, to the sign-in form and back.
    func viewer(_ request: Request) throws -> ConsoleSessions.Session {
        guard let session = try currentSession(request) else {
            var next = request.uri.path
            if let query = request.uri.query, !query.isEmpty { next += "?" + query }
            throw ConsoleError.signIn(next: Self.isConsolePath(next) ? next : "/ui")
        }
        return session
    }

    /// The session of a request that changes something: same origin, the session's CSRF token,
    /// a token that may write. Checked before anything is read or done.
    func changer(_ request: Request, fields: FormFields) throws -> ConsoleSessions.Session {
        try checkOrigin(request)
        let session = try viewer(request)
        try checkCSRF(fields, session: session)
        guard !session.identity.readOnly else {
            throw ConsoleError.forbidden(
                "the token '\(session.identity.name)' is read-only: it can look but not change anything; nothing was changed")
        }
        return session
    }

    func checkCSRF(_ fields: FormFields, session: ConsoleSessions.Session) throws {
        guard let sent = fields["csrf"], ConsoleSessions.sameToken(sent, session.csrf) else {
            throw ConsoleError.forbidden(
                "the form's security token is missing or stale (reload the page and try again); nothing was changed")
        }
    }

    /// A change must come from a page of this console: the `Origin` (or, when a browser sends
    /// none, the `Referer`) must name the host the request was sent to.
    func checkOrigin(_ request: Request) throws {
        let host = (request.head.authority ?? "").lowercased()
        let claimed = request.headers[.origin] ?? request.headers[.referer]
        guard let claimed, claimed != "null", let url = URL(string: claimed), let claimedHost = url.host?.lowercased() else {
            throw ConsoleError.forbidden("the request does not say which page sent it (no Origin header); nothing was changed")
        }
        let scheme = url.scheme?.lowercased() ?? "http"
        let defaultPort = scheme == "https" ? 443 : 80
        let port = url.port ?? defaultPort
        let claimedAuthority = claimedHost.contains(":") ? "[\(claimedHost)]" : claimedHost
        let candidates = [claimedAuthority + ":\(port)"] + (port == defaultPort ? [claimedAuthority] : [])
        guard candidates.contains(host) else {
            throw ConsoleError.forbidden("the request came from another site (\(claimedHost)); nothing was changed")
        }
    }

    /// `Set-Cookie` for the session: never readable by script, never sent by another site,
    /// only over TLS when the request came over it, only to the console's paths.
    func cookie(_ value: String, request: Request, maxAge: Int) -> String {
        var cookie = "\(Self.cookieName)=\(value); Path=/ui; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)"
        if Self.cameOverTLS(request) { cookie += "; Secure" }
        return cookie
    }

    /// Whether the browser's connection was TLS: tapline serves plain HTTP, so that is a TLS
    /// proxy in front saying so (`X-Forwarded-Proto: https`, or the request's own scheme).
    static func cameOverTLS(_ request: Request) -> Bool {
        if request.head.scheme?.lowercased() == "https" { return true }
        return request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    static func cookieValue(_ headers: [String], name: String) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }
}
