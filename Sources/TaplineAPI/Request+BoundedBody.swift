import Hummingbird
import NIOCore

extension Request {
    /// The whole body within the configured size and time limits.
    func boundedBody(_ dependencies: APIDependencies) async throws -> ByteBuffer {
        try await boundedBody(limit: dependencies.maxBodyBytes, timeout: dependencies.bodyTimeout)
    }

    /// The whole body, refused with a Stitch-shaped 413 beyond `limit` bytes (checked against
    /// `Content-Length` first, so an oversized upload is not read at all) and with a 408 when it
    /// has not arrived within `timeout`: a client that trickles its body cannot hold a
    /// connection and a handler for ever.
    func boundedBody(limit: Int, timeout: Duration) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        let body = self.body
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limit)
                } catch is CancellationError {
                    return nil
                } catch {
                    throw APIError.tooLarge(limit: limit)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish decides: the body, or nil for the deadline.
            guard let first = try await group.next(), let buffer = first else {
                throw APIError.bodyTimeout(timeout)
            }
            return buffer
        }
    }
}
