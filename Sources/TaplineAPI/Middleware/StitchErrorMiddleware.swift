import Hummingbird
import Logging
import TaplineStoreContract

/// Gives every error answer a Stitch-shaped JSON body.
///
/// Hummingbird answers an unknown route or a wrong method with an empty 404 and an oversized body
/// with an empty 413; Stitch clients expect JSON. Errors that are not `APIError`s are bugs or
/// environment failures: they are logged with their detail and answered with a generic 500 that
/// leaks nothing.
struct StitchErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Which errors are a 503 and why (`APIDependencies.unavailable`).
    let unavailable: @Sendable (any Error) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response = try await answer(request, context: context, next: next)
        // An error answer to HEAD keeps its status and headers, never a body.
        return request.method == .head ? response.createHeadResponse() : response
    }

    private func answer(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let mapped: APIError =
                switch error.status {
                case .notFound: .notFound("no such resource: \(request.method) \(request.uri.path)")
                case .contentTooLarge: .tooLarge(limit: context.maxUploadSize)
                default: .sources(error.status, code: "HTTPError", message: error.body ?? error.status.reasonPhrase)
                }
            return try mapped.response(from: request, context: context)
        } catch {
            if let reason = unavailable(error) {
                // Another process holds the database (say, sqlite3 with BEGIN IMMEDIATE), or a
                // cluster's database is out of reach: the client may retry.
                context.logger.warning(
                    "store unavailable",
                    metadata: ["http.method": "\(request.method)", "http.path": "\(request.uri.path)", "error": "\(error)"])
                var response = try APIError.sources(.serviceUnavailable, code: "Unavailable", message: reason)
                    .response(from: request, context: context)
                response.headers[.retryAfter] = "1"
                return response
            }
            context.logger.error(
                "request failed",
                metadata: ["http.method": "\(request.method)", "http.path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError.internalError.response(from: request, context: context)
        }
    }
}
