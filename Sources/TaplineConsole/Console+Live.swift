import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TaplineAPI

/// `GET /ui/events`: the page's live stream (server-sent events). Each `changed` event tells
/// the page to fetch itself again; a comment every 15 s keeps proxies from closing the stream
/// and lets the server notice a browser that went away. A stream ends when its session ends, after
/// `maxStreamAge` (the browser reconnects by itself, and is asked for its session again) and at
/// the daemon's shutdown. Past the feed's capacity the answer is a 503 and the page polls.
extension Console {
    static let maxStreamAge = Duration.seconds(15 * 60)

    @Sendable func events(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        guard let subscription = feed.subscribe() else {
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.retryAfter] = "10"
            Self.secure(&headers)
            return Response(
                status: .serviceUnavailable, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "too many live pages are open; this page polls instead\n")))
        }
        let coalesce = feed.coalesce
        let sessions = self.sessions
        let now = api.now
        let deadline = ContinuousClock.now + Self.maxStreamAge
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        Self.secure(&headers)
        let body = ResponseBody { writer in
            // The stream ends when the browser goes (a write fails) or the server stops.
            try await writer.write(ByteBuffer(string: "retry: 3000\n: live\n\n"))
            let feed = self.feed
            try await withGracefulShutdownHandler {
                for await signal in subscription.signals {
                    switch signal {
                    case .changed:
                        try await writer.write(ByteBuffer(string: "event: changed\ndata: {}\n\n"))
                        // Changes that arrive meanwhile are one refresh, not one each.
                        try? await Task.sleep(for: coalesce)
                    case .heartbeat:
                        guard sessions.isLive(id: session.id, now: now()), ContinuousClock.now < deadline else { return }
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
            } onGracefulShutdown: {
                feed.end(subscription.id)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
