import Foundation
import TaplineAPI
import TaplineCluster

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A node of a cluster serves the logs of jobs other nodes ran by asking the node that ran the
/// job, at the address its current life recorded, with the caller's own authorization (every
/// node is given the same tokens). The log is fetched into a file, never into memory, and
/// streamed from there.
struct ClusterLogRelay: LogRelay {
    let store: ClusterStore
    let nodeName: String
    let session: URLSession
    /// Where fetched copies wait to be served (private to the daemon).
    let spoolDirectory: String

    init(store: ClusterStore, nodeName: String, spoolDirectory: String, timeoutSeconds: Double = 30) {
        self.store = store
        self.nodeName = nodeName
        self.spoolDirectory = spoolDirectory
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeoutSeconds
        configuration.timeoutIntervalForResource = max(timeoutSeconds, 300)
        session = URLSession(configuration: configuration)
    }

    func fetch(jobName: String, path: String, authorization: String?) async -> RelayedLog? {
        let location: (node: String, address: String?)?
        do {
            location = try await store.jobNode(name: jobName)
        } catch {
            return .unreachable("the cluster's database cannot be reached from this node")
        }
        guard let location, location.node != nodeName else { return nil }
        guard let address = location.address, let url = URL(string: "http://\(address)\(path)") else {
            return .unreachable("node \(location.node) has recorded no address to reach it at")
        }
        var request = URLRequest(url: url)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        request.setValue("1", forHTTPHeaderField: "X-Tapline-Relayed")
        let downloaded: URL
        let status: Int
        do {
            let (file, response) = try await session.download(for: request)
            downloaded = file
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            return .unreachable("node \(location.node) at \(address) did not answer (\(error.localizedDescription))")
        }
        switch status {
        case 200:
            let copy = (spoolDirectory as NSString).appendingPathComponent("relayed-\(UUID().uuidString).log")
            do {
                try FileManager.default.moveItem(atPath: downloaded.path, toPath: copy)
            } catch {
                try? FileManager.default.removeItem(at: downloaded)
                return .unreachable("the log fetched from node \(location.node) cannot be kept here: \(error.localizedDescription)")
            }
            return .file(path: copy)
        case 404:
            try? FileManager.default.removeItem(at: downloaded)
            return .missing(node: location.node)
        case 401:
            try? FileManager.default.removeItem(at: downloaded)
            return .unreachable("node \(location.node) refused this token; give every node of the cluster the same tokens")
        default:
            try? FileManager.default.removeItem(at: downloaded)
            return .unreachable("node \(location.node) at \(address) answered HTTP \(status)")
        }
    }
}
