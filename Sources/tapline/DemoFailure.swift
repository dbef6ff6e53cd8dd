import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure of the built-in demo tap or target, told the way Singer programs tell it: one
/// `CRITICAL` line on stderr naming the cause (`/path/tap-config.json: No such file or
/// directory`), then exit status 1. tapline shows that line as the job's description.
struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// Runs `body`; any error becomes a `CRITICAL` line and exit status 1.
    static func reporting(_ program: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("CRITICAL \(program): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The whole file at `path`; errors read `<path>: <reason>`.
    static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DemoFailure("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw DemoFailure("\(path): \(String(cString: strerror(errno)))") }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }
}
