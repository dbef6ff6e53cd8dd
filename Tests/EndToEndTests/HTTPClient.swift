import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A minimal client for the daemon's API, as a Stitch client would call it.
struct HTTPClient {
    let base: String
    let token: String

    init(address: String, stateDirectory: String) throws {
        base = "http://\(address)"
        let text = try String(contentsOfFile: stateDirectory + "/token", encoding: .utf8)
        token = text.split(separator: "\n").first { !$0.hasPrefix("#") }.map(String.init) ?? ""
    }

    /// Sends a request; returns the status and the decoded JSON body.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> (status: Int, json: Any?) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let json = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
    }

    /// A GET whose answer is text (redirects followed).
    func text(_ path: String) async throws -> (status: Int, text: String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The source's jobs, newest first.
    func jobs(_ sourceID: Int) async throws -> [[String: Any]] {
        let (_, json) = try await call("GET", "/v4/sources/\(sourceID)/jobs")
        return (json as? [String: Any])?["data"] as? [[String: Any]] ?? []
    }

    /// Polls until `condition` holds or the timeout passes.
    func waitFor(_ what: String, timeout: TimeInterval = 20, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DaemonProcess.Failure("timed out waiting for \(what)")
    }
}
