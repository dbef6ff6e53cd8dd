import Hummingbird
import NIOCore
import TaplineCore

/// Builds tapline's HTTP router: the Stitch v4 routes behind bearer auth, every answer (errors,
/// unknown routes, wrong methods) in a Stitch-shaped JSON body.
public enum API {
    public static func router(_ dependencies: APIDependencies) -> Router<TaplineRequestContext> {
        // HEAD is answered wherever GET is (RFC 9110: the same headers, no body).
        let router = Router(context: TaplineRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Added before any route, so it also wraps the not-found answer.
        if let metrics = dependencies.metrics { router.add(middleware: MetricsMiddleware(metrics: metrics)) }
        router.add(middleware: StitchErrorMiddleware<TaplineRequestContext>(unavailable: dependencies.unavailable))
        if let metrics = dependencies.metrics {
            // No auth, like /healthz: Prometheus scrapers rarely carry tokens; it reveals counts only.
            router.get("metrics") { _, _ -> Response in
                var buffer = ByteBuffer()
                buffer.writeString(metrics.render())
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
            }
        }
        // No auth: for load balancers and systemd-style probes; it reveals only liveness.
        router.get("healthz") { _, _ -> Response in
            let storeOK = (try? await dependencies.store.isReachable()) == true
            let loopOK = dependencies.health?.isLoopAlive(now: dependencies.now()) ?? true
            var fields: [(String, WireJSON)] = [("store", .bool(storeOK)), ("scheduler", .bool(loopOK))]
            var healthy = storeOK && loopOK
            if let node = dependencies.node {
                let epoch = node.heldEpoch
                healthy = healthy && epoch != nil
                fields.append(
                    (
                        "node",
                        .object([
                            ("name", .string(node.nodeName)), ("lease", .string(epoch == nil ? "not_held" : "held")),
                            ("epoch", epoch.map { .int($0) } ?? .null),
                        ])
                    ))
            }
            let body = WireJSON.object([("status", .string(healthy ? "ok" : "unhealthy"))] + fields)
            return .json(body, status: healthy ? .ok : .serviceUnavailable)
        }
        // No auth: the document describes the API, it holds no data.
        router.get("openapi.yaml") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        let v4 = router.group("v4").add(middleware: BearerAuthMiddleware(tokens: dependencies.tokens))
        SourcesController(dependencies: dependencies).addRoutes(to: v4)
        SourceStateController(dependencies: dependencies).addRoutes(to: v4)
        SourceTypesController(dependencies: dependencies).addRoutes(to: v4)
        ReplicationJobsController(dependencies: dependencies).addRoutes(to: v4)
        ExtractionsController(dependencies: dependencies).addRoutes(to: v4)
        StreamsController(dependencies: dependencies).addRoutes(to: v4)
        DestinationsController(dependencies: dependencies).addRoutes(to: v4)
        return router
    }
}
