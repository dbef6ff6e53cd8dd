/// An error by which a store declines to act at the moment by design rather than fails: a node
/// of a cluster that holds no lease starts nothing. Callers that retry (the scheduler) log it as
/// a warning, not as a fault.
public protocol StoreRefusal: Error {}
