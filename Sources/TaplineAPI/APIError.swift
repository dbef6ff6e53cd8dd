import Hummingbird
import NIOCore
import TaplineCore

/// An error answer in one of Stitch's body shapes, with its HTTP status.
///
/// The sources endpoints answer `{"error": "<Code>", "data": {"message": …}}`; the replication-job
/// endpoints answer `{"error": {"type": …, "message": …}}`. Every error tapline sends goes through
/// here, so no handler can invent a third shape or leak an internal error's text.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let body: WireJSON

    public init(status: HTTPResponse.Status, body: WireJSON) {
        self.status = status
        self.body = body
    }

    /// The sources-endpoint shape.
    public static func sources(_ status: HTTPResponse.Status = .badRequest, code: String, message: String, extra: [(String, WireJSON)] = [])
        -> APIError
    {
        APIError(
            status: status,
            body: .object([("error", .string(code)), ("data", .object([("message", .string(message))] + extra))]))
    }

    /// The replication-jobs shape.
    public static func job(_ status: HTTPResponse.Status = .badRequest, type: String, message: String) -> APIError {
        APIError(
            status: status,
            body: .object([("error", .object([("type", .string(type)), ("message", .string(message))]))]))
    }

    /// A domain error about a source, as Stitch documents it (all are 400).
    package static func source(_ error: SourceError, catalog: SourceTypeCatalog) -> APIError {
        var extra: [(String, WireJSON)] = []
        if case .invalidProperties(let bad, let type) = error {
            extra.append(("bad_properties", .array(bad.map(WireJSON.string))))
            if let sourceType = catalog[type] {
                extra.append(("report_card", ReportCardWire.forType(sourceType)))
            }
        }
        return .sources(code: error.code, message: error.message, extra: extra)
    }

    static func notFound(_ message: String) -> APIError {
        .sources(.notFound, code: "NotFound", message: message)
    }

    static let unauthorized = APIError.sources(
        .unauthorized, code: "Unauthorized",
        message: "missing or invalid access token: send 'Authorization: Bearer <token>'")

    /// A change asked for with a read-only token (Stitch's 403 for a token without the
    /// permission).
    public static func readOnly(_ tokenName: String) -> APIError {
        .sources(
            .forbidden, code: "Forbidden",
            message: "the token '\(tokenName)' is read-only: it can read but not change anything; nothing was changed")
    }

    static func tooLarge(limit: Int) -> APIError {
        .sources(.contentTooLarge, code: "InvalidBody", message: "request body is larger than \(limit) bytes")
    }

    static func bodyTimeout(_ timeout: Duration) -> APIError {
        let seconds = timeout.timeInterval
        return .sources(
            .requestTimeout, code: "InvalidBody", message: "request body did not arrive within \(seconds) seconds")
    }

    static let internalError = APIError.sources(
        .internalServerError, code: "InternalError", message: "internal error; the daemon's log has the details")

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(body, status: status)
    }
}

extension Response {
    /// A JSON response from a wire tree.
    static func json(_ body: WireJSON, status: HTTPResponse.Status = .ok) -> Response {
        let text = body.serialized()
        var buffer = ByteBuffer()
        buffer.writeString(text)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }
}
