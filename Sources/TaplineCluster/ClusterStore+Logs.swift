import Foundation
import PostgresNIO

extension ClusterStore {
    /// The node that ran (or runs) the job and the API address its current life recorded;
    /// `nil` when no such job exists. A node's log files stay on the node that wrote them.
    public func jobNode(name: String) async throws -> (node: String, address: String?)? {
        try await database.query("SELECT j.node, n.address FROM jobs j LEFT JOIN nodes n ON n.name = j.node WHERE j.job_name = \(name)") {
            rows in
            for try await (node, address) in rows.decode((String, String?).self) { return (node, address) }
            return nil
        }
    }
}
