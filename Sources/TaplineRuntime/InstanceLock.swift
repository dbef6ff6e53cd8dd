import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One daemon per database: an exclusive `flock` on `<database>.lock`, held for the life of the
/// process (the kernel releases it when the process dies, even by `kill -9`). The file holds the
/// holder's pid so the refusal message can name it.
public final class InstanceLock: Sendable {
    public let path: String
    private let fd: Int32

    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public let holder: String
        public var description: String {
            "another tapline (\(holder)) is already running on this database (lock \(path))"
        }
    }

    public struct Failed: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot open the lock file \(path): \(reason)" }
    }

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failed(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = pread(fd, &buffer, 63, 0)
            close(fd)
            let pid = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw Held(path: path, holder: pid.isEmpty ? "unknown pid" : "pid \(pid)")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.fd = fd
    }

    deinit {
        close(fd)
    }
}
