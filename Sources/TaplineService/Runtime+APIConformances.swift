import TaplineAPI
import TaplineCluster
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// The runtime parts seen through the API's protocols; declared here, in the composition root,
/// so neither the API nor the runtime depends on the other.
/// The runner as the API sees it: a manual start is registered at once and spawned off the
/// cooperative pool that serves requests (its row is already committed).
struct RunnerJobControl: JobControl {
    let runner: JobRunner
    func start(_ job: JobRecord, source: SourceRecord) { runner.startInBackground(job, source: source) }
    func stop(sourceID: Int64) -> Bool { runner.stop(sourceID: sourceID) }
}

/// A node of a cluster: starts run here; a stop of a job another node runs is a request the
/// database carries to that node (`ClusterStore.requestStop`).
struct ClusterJobControl: JobControl {
    let runner: JobRunner
    let store: ClusterStore
    func start(_ job: JobRecord, source: SourceRecord) { runner.startInBackground(job, source: source) }
    func stop(sourceID: Int64) async throws -> Bool {
        if runner.stop(sourceID: sourceID) { return true }
        return try await store.requestStop(sourceID: sourceID) != nil
    }
}
extension Scheduler: LoopHealth {}
extension TaplineMetrics: APIMetrics {}
extension ClusterNode: NodeHealth {
    public var nodeName: String { identity.name }
    public var heldEpoch: Int64? { phase == .held ? epoch : nil }
}
