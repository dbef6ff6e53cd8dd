import ArgumentParser
import Foundation
import TaplineRuntime

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How the CLI finds the daemon: `--url`/`--token`, else `TAPLINE_URL`/`TAPLINE_TOKEN`, else
/// the configuration (`--config`, `/etc/tapline/tapline.yaml` when present) and its state
/// directory (`http.address` for the real address, `token` for the token).
struct ClientOptions: ParsableArguments {
    @Option(help: "The daemon's base URL, e.g. http://127.0.0.1:8080 (or TAPLINE_URL).")
    var url: String?

    @Option(help: "An API token (or TAPLINE_TOKEN; else the token file).")
    var token: String?

    @Option(help: "The daemon's configuration file, to find its address and token.")
    var config: String?

    @Option(name: .customLong("state-dir"), help: "The daemon's state directory (or TAPLINE_STATE_DIR).")
    var stateDir: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        let path = config ?? (FileManager.default.fileExists(atPath: "/etc/tapline/tapline.yaml") ? "/etc/tapline/tapline.yaml" : nil)
        let configuration: TaplineConfiguration
        do {
            configuration = try ConfigurationLoader.load(
                path: path, listen: nil, stateDirectory: stateDir, environment: environment, describeTaps: false)
        } catch {
            throw CLIError(error.description, code: 2)
        }
        let state = configuration.resolvedStateDirectory(environment: environment)
        var base = url ?? environment["TAPLINE_URL"]
        if base == nil, let address = try? String(contentsOfFile: state + "/http.address", encoding: .utf8) {
            base = "http://" + address.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let resolvedURL = base ?? "http://\(configuration.listen)"
        var resolvedToken = token ?? environment["TAPLINE_TOKEN"]
        if resolvedToken == nil {
            // A state directory named on purpose wins over the installed service's token.
            let explicitState = stateDir != nil || environment[ConfigurationLoader.stateDirectoryVariable] != nil
            let candidates = [configuration.tokenFile, explicitState ? state + "/token" : nil, "/etc/tapline/token", state + "/token"]
                .compactMap { $0 }
            for file in candidates where FileManager.default.isReadableFile(atPath: file) {
                if let first = try? TokenFile.read(path: file).first {
                    resolvedToken = first.token
                    break
                }
            }
        }
        guard let resolvedToken else {
            throw CLIError("no API token: pass --token, set TAPLINE_TOKEN, or point --state-dir at the daemon's state directory", code: 2)
        }
        return APIClient(base: resolvedURL.hasSuffix("/") ? String(resolvedURL.dropLast()) : resolvedURL, token: resolvedToken)
    }
}

/// A failure with the exit code scripts can rely on: 1 the API refused the request, 2 usage or
/// configuration, 3 the daemon could not be reached.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let code: Int32
    init(_ description: String, code: Int32 = 1) {
        self.description = description
        self.code = code
    }
}

/// A small blocking HTTP client for the CLI.
struct APIClient {
    let base: String
    let token: String

    struct Reply {
        let status: Int
        let data: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) }
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    func send(_ method: String, _ path: String, body: Any? = nil) async throws -> Reply {
        guard let url = URL(string: base + path) else { throw CLIError("invalid URL \(base + path)", code: 2) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, data: data)
        } catch {
            throw CLIError("cannot reach tapline at \(base): \(error.localizedDescription)", code: 3)
        }
    }

    /// Sends and returns the JSON on success; any error body becomes a `CLIError` carrying the
    /// API's own message (both Stitch error shapes, and `200` with an `error` object).
    func call(_ method: String, _ path: String, body: Any? = nil) async throws -> Reply {
        let reply = try await send(method, path, body: body)
        if reply.status >= 400 || (reply.json as? [String: Any])?["error"] != nil {
            throw CLIError(Self.message(reply))
        }
        return reply
    }

    static func message(_ reply: Reply) -> String {
        if let object = reply.json as? [String: Any] {
            if let error = object["error"] as? [String: Any] {
                return "\(error["type"] as? String ?? "error"): \(error["message"] as? String ?? "")"
            }
            if let code = object["error"] as? String {
                let data = object["data"] as? [String: Any]
                var text = "\(code): \(data?["message"] as? String ?? "")"
                if let bad = data?["bad_properties"] as? [String] { text += " (bad properties: \(bad.joined(separator: ", ")))" }
                return text
            }
            if let fields = object["invalid_fields"] as? String { return fields }
        }
        if let text = reply.json as? String { return text }
        return "HTTP \(reply.status): \(reply.text)"
    }
}

/// Prints rows as aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Prints the JSON as the API sent it (pretty).
func printJSON(_ reply: APIClient.Reply) {
    if let object = reply.json,
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
    {
        print(String(decoding: data, as: UTF8.self))
    } else {
        print(reply.text)
    }
}

/// Runs a CLI action, turning `CLIError`s into their message on stderr and their exit code.
func runCLI(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("tapline: \(error.description)\n".utf8))
        throw ExitCode(error.code)
    }
}
