import Foundation
import Hummingbird
import TaplineCore

/// Requires `Authorization: Bearer <token>` and records which token made the request.
///
/// A missing, empty, malformed or unknown token is a 401. The token itself is never logged.
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
        let presented = header.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces)
        guard !presented.isEmpty, let name = tokens.name(of: presented) else { throw APIError.unauthorized }
        var context = context
        context.actor = Actor(name)
        return try await next(request, context)
    }
}
