import Foundation

/// The scheduler's due-queue: each source's next fire time, ordered earliest first.
///
/// A binary min-heap with lazy deletion: changing or removing a source's time only updates the
/// `current` map; heap entries that no longer match it are discarded when they reach the top.
/// Every operation is O(log n), and the heap is compacted when stale entries outnumber live ones,
/// so a storm of updates cannot grow it without bound.
public struct DueQueue: Sendable {
    struct Entry: Sendable {
        var due: Date
        var sourceID: Int64
    }

    private var heap: [Entry] = []
    private var current: [Int64: Date] = [:]

    public init() {}

    /// The number of sources with a due time.
    public var count: Int { current.count }
    public var isEmpty: Bool { current.isEmpty }

    /// The due time of a source, if it has one.
    public func due(of sourceID: Int64) -> Date? { current[sourceID] }

    /// Sets (or with `nil`, removes) a source's due time.
    public mutating func set(_ sourceID: Int64, due: Date?) {
        guard let due else {
            current[sourceID] = nil
            compactIfNeeded()
            return
        }
        if current[sourceID] == due { return }
        current[sourceID] = due
        push(Entry(due: due, sourceID: sourceID))
        compactIfNeeded()
    }

    /// The earliest due time, if any.
    public mutating func earliest() -> Date? {
        dropStaleTop()
        return heap.first?.due
    }

    /// Removes and returns up to `limit` sources due at or before `now`, earliest first.
    public mutating func popDue(now: Date, limit: Int = .max) -> [(sourceID: Int64, due: Date)] {
        var result: [(Int64, Date)] = []
        while result.count < limit {
            dropStaleTop()
            guard let top = heap.first, top.due <= now else { break }
            popTop()
            current[top.sourceID] = nil
            result.append((top.sourceID, top.due))
        }
        return result
    }

    // MARK: Heap

    private func isLive(_ entry: Entry) -> Bool { current[entry.sourceID] == entry.due }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top) { popTop() }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
            if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func compactIfNeeded() {
        guard heap.count > 64, heap.count > 2 * current.count else { return }
        heap = heap.filter(isLive)
        heap.sort { $0.due < $1.due }  // a sorted array is a valid min-heap
    }
}
