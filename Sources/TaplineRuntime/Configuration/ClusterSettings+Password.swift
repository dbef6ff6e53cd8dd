import Foundation

extension ClusterSettings {
    /// A password file that cannot serve.
    public struct PasswordFileError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The password in `path`: its one line, without the line ending. `readableByOthers`: the
    /// file's mode lets other users read it (worth a warning; the daemon still starts). A pipe
    /// serves too (`--password-file /dev/stdin`, for a password only root may read).
    public static func readPassword(path: String) throws(PasswordFileError) -> (password: String, readableByOthers: Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PasswordFileError(description: "\(path): cannot read it")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: 65_536) ?? Data()  // nil: at its end already, empty
        } catch {
            throw PasswordFileError(description: "\(path): cannot read it: \(error)")
        }
        var password = String(decoding: data, as: UTF8.self)
        while let last = password.last, last.isNewline { password.removeLast() }  // "\r\n" is one Character
        guard !password.isEmpty else { throw PasswordFileError(description: "\(path): empty") }
        return (password, TokenFile.isReadableByOthers(path: path))
    }

    /// The database password after defaults (`resolvedPasswordFile`), `nil` when none is to be
    /// read.
    public func password(environment: [String: String]) throws(PasswordFileError) -> (
        password: String, readableByOthers: Bool, path: String
    )? {
        guard let path = resolvedPasswordFile(environment: environment) else { return nil }
        let read = try Self.readPassword(path: path)
        return (read.password, read.readableByOthers, path)
    }
}
