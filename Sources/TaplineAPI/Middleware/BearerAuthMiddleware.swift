import Hummingbird
import TaplineCore

/// Requires `Authorization: Bearer <token>` and records which token made the request.
///
/// A missing, empty, malformed or unknown token is a 401; a read-only token's request of any
/// method but GET and HEAD is a 403, before anything runs. The token itself is never logged.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = TaplineRequestContext
    let tokens: TokenSet

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else {
            throw APIError.unauthorized
        }
        // Blanks around the token are tolerated (spaces and tabs; tokens are printable ASCII).
        var token = header.utf8.dropFirst(scheme.count)
        while let first = token.first, first == 0x20 || first == 0x09 { token = token.dropFirst() }
        while let last = token.last, last == 0x20 || last == 0x09 { token = token.dropLast() }
        let presented = String(decoding: token, as: UTF8.self)
        guard !presented.isEmpty, let identity = tokens.identity(of: presented) else { throw APIError.unauthorized }
        if identity.readOnly, request.method != .get, request.method != .head {
            throw APIError.readOnly(identity.name)
        }
        var context = context
        context.actor = Actor(identity.name)
        return try await next(request, context)
    }
}
