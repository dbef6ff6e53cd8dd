import Synchronization
import TaplineStoreContract

/// Learns when a job's slot is free again, so due sources waiting for one can start. (What a
/// job's end changed about its source, a system pause set or cleared, the store announces.)
public protocol JobEndObserver: AnyObject, Sendable {
    func jobEnded(_ job: JobRecord)
}

/// A weak reference to the observer, so the runner does not keep the scheduler alive; shared by
/// the runner and its recorder.
final class JobObserverSlot: Sendable {
    private struct Weak {
        weak var value: (any JobEndObserver)?
    }
    private let slot = Mutex(Weak())

    var value: (any JobEndObserver)? { slot.withLock { $0.value } }
    func set(_ observer: any JobEndObserver) { slot.withLock { $0.value = observer } }
}
