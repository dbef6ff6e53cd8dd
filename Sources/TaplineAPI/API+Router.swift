import Hummingbird
import TaplineCore

/// Builds tapline's HTTP router: the Stitch v4 routes behind bearer auth, every answer (errors,
/// unknown routes, wrong methods) in a Stitch-shaped JSON body.
public enum API {
    public static func router(_ dependencies: APIDependencies) -> Router<TaplineRequestContext> {
        let router = Router(context: TaplineRequestContext.self)
        // Added before any route, so it also wraps the not-found answer.
        router.add(middleware: StitchErrorMiddleware<TaplineRequestContext>())
        let v4 = router.group("v4").add(middleware: BearerAuthMiddleware(tokens: dependencies.tokens))
        SourcesController(dependencies: dependencies).addRoutes(to: v4)
        SourceTypesController(dependencies: dependencies).addRoutes(to: v4)
        ReplicationJobsController(dependencies: dependencies).addRoutes(to: v4)
        ExtractionsController(dependencies: dependencies).addRoutes(to: v4)
        StreamsController(dependencies: dependencies).addRoutes(to: v4)
        return router
    }
}
