import Foundation
import PostgresNIO
import TaplineStoreContract

/// A `DELETE …/sync` for a job that runs on another node: the node it names stops it.
public struct StopRequest: Sendable, Equatable, Decodable {
    public let node: String
    public let jobName: String
    public let sourceID: Int64

    enum CodingKeys: String, CodingKey {
        case node
        case jobName = "job"
        case sourceID = "source"
    }

    public init(node: String, jobName: String, sourceID: Int64) {
        self.node = node
        self.jobName = jobName
        self.sourceID = sourceID
    }
}

extension ClusterStore {
    /// Marks the source's running job, on whichever node runs it, as asked to stop and notifies
    /// `tapline_stops` in the same transaction (delivered when it commits). Returns the request,
    /// or `nil` when no job of the source is running. The node that runs the job stops it when it
    /// hears the notification, or at its next reconcile if the notification was lost; a node
    /// that died meanwhile has its jobs ended by the reaper.
    public func requestStop(sourceID: Int64) async throws -> StopRequest? {
        let logger = database.logger
        return try await database.transaction { connection -> StopRequest? in
            var request: StopRequest?
            for try await (job, node) in try await connection.query(
                """
                UPDATE jobs SET stop_requested_at = COALESCE(stop_requested_at, now())
                WHERE source_id = \(sourceID) AND status = 'running' RETURNING job_name, node
                """, logger: logger
            ).decode((String, String).self) {
                request = StopRequest(node: node, jobName: job, sourceID: sourceID)
            }
            guard let request else { return nil }
            let payload = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: [
                        "node": request.node, "job": request.jobName, "source": request.sourceID,
                    ] as [String: Any], options: [.sortedKeys]), as: UTF8.self)
            try await connection.query("SELECT pg_notify(\(ClusterDatabase.stopsChannel), \(payload))", logger: logger)
            return request
        }
    }

    /// Calls `handler` with every stop request the change feed hears, for any node (the handler
    /// picks its own), and again at each reconcile for the requests still pending.
    public func onStopRequest(_ handler: @escaping @Sendable (StopRequest) -> Void) {
        feed.setStopHandler(handler)
    }
}
