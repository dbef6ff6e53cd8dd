import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A job's (or a connection check's) private directory: the tap's and target's configuration
/// files with their credentials, the catalog and the state, all mode 0600 in a 0700 directory.
///
/// It belongs to exactly one job: it is named after the job, made when the job is prepared and
/// removed when that job ends (or by the boot sweep after a crash). The processes do not run in
/// it; they get the files by absolute path and run in the shared working directory, so nothing a
/// target writes is ever removed with it.
struct JobWorkspace {
    let path: String

    /// Makes the directory (and missing parents). Errors read as `<path>: <reason>`.
    static func create(_ path: String) throws(WorkspaceError) -> JobWorkspace {
        if mkdir(path, 0o700) != 0 {
            let first = errno
            guard first == ENOENT else { throw WorkspaceError(path: path, errno: first) }
            try makeDirectories((path as NSString).deletingLastPathComponent)
            guard mkdir(path, 0o700) == 0 else { throw WorkspaceError(path: path, errno: errno) }
        }
        return JobWorkspace(path: path)
    }

    /// Makes `path` and its missing parents (mode 0700); an existing directory is fine.
    static func makeDirectories(_ path: String) throws(WorkspaceError) {
        guard !path.isEmpty, path != "/" else { return }
        if mkdir(path, 0o700) == 0 { return }
        switch errno {
        case EEXIST: return
        case ENOENT:
            try makeDirectories((path as NSString).deletingLastPathComponent)
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw WorkspaceError(path: path, errno: errno) }
        default: throw WorkspaceError(path: path, errno: errno)
        }
    }

    /// Writes `data` to `name` in the workspace (mode 0600, never over an existing file) and
    /// returns its absolute path.
    @discardableResult
    func write(_ data: Data, to name: String) throws(WorkspaceError) -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WorkspaceError(path: file, errno: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, data.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WorkspaceError(path: file, errno: errno)
            }
            offset += n
        }
        return file
    }

    /// Removes a workspace and everything in it; a missing one is fine.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A file-system step of preparing a job failed; reads like `tap-config.json: No space left on
/// device`, with the full path.
struct WorkspaceError: Error, CustomStringConvertible {
    var path: String
    var reason: String

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = String(cString: strerror(code))
    }

    var description: String { "\(path): \(reason)" }
}
