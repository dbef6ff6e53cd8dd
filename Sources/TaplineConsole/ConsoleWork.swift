import Dispatch

/// The console's own queue for the CPU-bound part of a page (filtering thousands of rows,
/// rendering): one serial queue, so open consoles use at most one core and never the threads
/// of the cooperative pool that answer the API (a pause waits for nothing but its commit).
enum ConsoleWork {
    private static let queue = DispatchQueue(label: "tapline.console", qos: .utility)

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
