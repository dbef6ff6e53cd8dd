import Foundation
import Hummingbird
import TaplineCore

/// Times every request and records it by route (the matched path pattern, so ids do not explode
/// the label set), method and status.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = TaplineRequestContext
    let metrics: any APIMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.timeInterval
        metrics.request(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code),
            seconds: seconds)
        return response
    }
}
