import Hummingbird

/// `/v4/source-types`: report cards of the configured source types.
struct SourceTypesController {
    let dependencies: APIDependencies

    func addRoutes(to group: RouterGroup<TaplineRequestContext>) {
        group.get("source-types", use: list)
        group.get("source-types/:type", use: retrieve)
    }

    @Sendable func list(request: Request, context: TaplineRequestContext) async throws -> Response {
        .json(.array(dependencies.catalog.sorted.map(ReportCardWire.forType)))
    }

    @Sendable func retrieve(request: Request, context: TaplineRequestContext) async throws -> Response {
        let name = context.parameters.get("type") ?? ""
        guard let type = dependencies.catalog[name] else {
            throw APIError.notFound("source type not found (\(name))")
        }
        return .json(ReportCardWire.forType(type))
    }
}
