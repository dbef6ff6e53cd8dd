import Foundation
import Testing

/// The architecture document is a map of the tree: every path it names in backticks must exist,
/// so a file that moves or goes away fails here until the map is mended. The README's links into
/// `docs/` are held to the same rule.
@Suite("Documentation names real paths")
struct DocumentationPathsTests {
    /// The repository's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Backticked spans that look like repository paths: they start with a top-level directory
    /// or name a file of the root.
    static func namedPaths(in text: String) -> [String] {
        let tops = ["Sources/", "Tests/", "scripts/", "Benchmarks/", "config/", "systemd/", "docs/", ".ci/"]
        var paths: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "`") {
            let after = rest.index(after: open)
            guard let close = rest[after...].firstIndex(of: "`") else { break }
            let span = String(rest[after..<close])
            if tops.contains(where: span.hasPrefix) || ["Package.swift", "README.md", "CHANGELOG.md", "openapi.yaml"].contains(span) {
                paths.append(span)
            }
            rest = rest[rest.index(after: close)...]
        }
        return paths
    }

    @Test("every path docs/architecture.md names exists")
    func architecturePathsExist() throws {
        let text = try String(contentsOfFile: Self.root + "/docs/architecture.md", encoding: .utf8)
        let paths = Self.namedPaths(in: text)
        #expect(paths.count > 50, "the map names the tree's files")
        let missing = paths.filter { !FileManager.default.fileExists(atPath: Self.root + "/" + $0) }
        #expect(missing.isEmpty, "docs/architecture.md names paths that do not exist: \(missing)")
    }

    @Test("every docs/ link in the README exists")
    func readmeLinksExist() throws {
        let text = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        var missing: [String] = []
        var links = 0
        for part in text.components(separatedBy: "](").dropFirst() {
            guard let end = part.firstIndex(where: { $0 == ")" || $0 == "#" }) else { continue }
            let target = String(part[..<end])
            guard !target.hasPrefix("http"), !target.isEmpty else { continue }
            links += 1
            if !FileManager.default.fileExists(atPath: Self.root + "/" + target) { missing.append(target) }
        }
        #expect(links > 5)
        #expect(missing.isEmpty, "README.md links to files that do not exist: \(missing)")
    }
}
