import Hummingbird
import TaplineCore

/// The per-request context: Hummingbird's core storage plus the authenticated caller.
public struct TaplineRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token's name, set by `BearerAuthMiddleware`; recorded in `source_events`.
    public var actor: Actor?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.actor = nil
    }

    /// Bodies are read by the handlers with their own limit (`APIDependencies.maxBodyBytes`);
    /// this bounds anything decoded through Hummingbird itself.
    public var maxUploadSize: Int { 1 << 20 }
}
