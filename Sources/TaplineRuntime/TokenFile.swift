import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The API tokens file: one token per line, either `TOKEN` (named `default`) or `NAME:TOKEN`,
/// optionally followed by `read-only` (its API calls and console sessions can read, never
/// change). Blank lines and lines starting with `#` are ignored.
///
/// On first start tapline generates one random token into the default location, created with mode
/// 0600 so only the service user can read it. Tokens are never logged; only the file's path is.
public enum TokenFile {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var token: String
        public var readOnly = false
    }

    /// The flag that marks a token read-only, after the token and a blank.
    public static let readOnlyFlag = "read-only"

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case empty(path: String)
        case malformed(path: String, line: Int)
        case cannotCreate(path: String, reason: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read the token file \(path): \(reason)"
            case .empty(let path): "the token file \(path) holds no token"
            case .malformed(let path, let line):
                "the token file \(path), line \(line): expected TOKEN or NAME:TOKEN, optionally followed by \(TokenFile.readOnlyFlag)"
            case .cannotCreate(let path, let reason): "cannot create the token file \(path): \(reason)"
            }
        }
    }

    /// Parses the file's text.
    public static func parse(_ text: String, path: String) throws(Failure) -> [Entry] {
        var entries: [Entry] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var readOnly = false
            if words.count == 2, words[1] == readOnlyFlag {
                readOnly = true
                words.removeLast()
            }
            guard words.count == 1 else { throw .malformed(path: path, line: number + 1) }
            let spec = words[0]
            var name = "default"
            var token = spec
            if let colon = spec.firstIndex(of: ":") {
                name = String(spec[..<colon])
                token = String(spec[spec.index(after: colon)...])
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
                else { throw .malformed(path: path, line: number + 1) }
            }
            guard !token.isEmpty, !token.contains(where: \.isWhitespace) else {
                throw .malformed(path: path, line: number + 1)
            }
            entries.append(Entry(name: name, token: token, readOnly: readOnly))
        }
        guard !entries.isEmpty else { throw .empty(path: path) }
        return entries
    }

    /// Reads the token file at `path`.
    public static func read(path: String) throws(Failure) -> [Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(text, path: path)
    }

    /// A fresh token: `ac_` (Stitch's prefix for API tokens) and 64 hex digits of system randomness.
    public static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var hex = "ac_"
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            hex += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
        return hex
    }

    /// Creates the file with one generated token, mode 0600, failing if it already exists (so two
    /// starts never overwrite each other's token).
    public static func create(path: String) throws(Failure) -> [Entry] {
        let token = generateToken()
        let text =
            "# tapline API token (Authorization: Bearer <token>). Lines: TOKEN or NAME:TOKEN, then \"read-only\" for a token that may only read.\n\(token)\n"
        if let reason = PrivateFile.write(text, to: path, exclusive: true) { throw .cannotCreate(path: path, reason: reason) }
        return [Entry(name: "default", token: token)]
    }

    /// Whether group or others may read the file (worth a warning: the tokens control the daemon).
    public static func isReadableByOthers(path: String) -> Bool { PrivateFile.isReadableByOthers(path: path) }
}
