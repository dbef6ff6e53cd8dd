import Synchronization

extension CronExpression {
    /// Parsed expressions by their text, shared by every caller in the process.
    ///
    /// A stored source keeps its expression as text, and each schedule computation (a start
    /// transaction, an API answer) needs the parsed form; parsing costs about 10 µs and 44
    /// allocations, and thousands of sources usually share a handful of expressions. Bounded:
    /// when full it starts over, so a stream of distinct expressions cannot grow it.
    private static let cache = Mutex<[String: CronExpression?]>([:])
    static let cacheLimit = 4096

    /// The parsed expression for `text`, or `nil` if it does not parse (stored expressions were
    /// validated when they were written, so that only happens for hand-edited rows).
    public static func cached(_ text: String) -> CronExpression? {
        if let hit = cache.withLock({ $0[text] }) { return hit }
        let parsed = try? CronExpression(parsing: text)
        cache.withLock { cache in
            if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[text] = parsed
        }
        return parsed
    }
}
