import Hummingbird
import NIOCore

extension Request {
    /// The whole body, refused with a Stitch-shaped 413 beyond `limit` bytes (checked against
    /// `Content-Length` first, so an oversized upload is not read at all).
    func boundedBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        do {
            return try await body.collect(upTo: limit)
        } catch {
            throw APIError.tooLarge(limit: limit)
        }
    }
}
