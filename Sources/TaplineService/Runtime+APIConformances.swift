import TaplineAPI
import TaplineRuntime

/// The runtime parts seen through the API's protocols; declared here, in the composition root,
/// so neither the API nor the runtime depends on the other.
extension JobRunner: JobControl {}
extension Scheduler: SourceChangeObserver {}
