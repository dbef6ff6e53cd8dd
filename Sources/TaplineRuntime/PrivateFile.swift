import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files only the service user may read: the API tokens, the credentials key, webhook secrets.
enum PrivateFile {
    /// Whether group or others may read the file.
    static func isReadableByOthers(path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & 0o077 != 0
    }

    /// Writes `text` with mode 0600 and syncs it; `exclusive`: fail if the file exists (two
    /// starts never overwrite each other's secret). Returns the failure's reason, or `nil`.
    static func write(_ text: String, to path: String, exclusive: Bool) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0o600)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        let written = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(fd) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }
}
