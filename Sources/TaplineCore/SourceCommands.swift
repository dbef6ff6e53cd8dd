import Foundation

/// Who made a change, as recorded in `source_events`: an API token's name, or tapline itself.
public struct Actor: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    /// tapline itself (system pauses, skipped occurrences).
    public static let system = Actor("system")
    public var description: String { name }
}

/// A validated request to create a source.
public struct NewSource: Sendable, Equatable {
    public var type: String
    public var displayName: String
    public var name: String
    /// Whether `name` was derived from the display name (it changes the uniqueness message).
    public var nameWasDerived: Bool
    public var changes: PropertyChanges
    public var destinationID: Int64?

    public init(type: String, displayName: String, name: String, nameWasDerived: Bool, changes: PropertyChanges, destinationID: Int64?) {
        self.type = type
        self.displayName = displayName
        self.name = name
        self.nameWasDerived = nameWasDerived
        self.changes = changes
        self.destinationID = destinationID
    }
}

/// What a PUT may do to the pause state.
public enum PauseChange: Sendable, Equatable {
    /// Pause now; `paused_at` shows the given instant (Stitch echoes the caller's value).
    case pause(shownAs: Date)
    case unpause
}

/// A validated PUT.
public struct SourcePatch: Sendable, Equatable {
    public var displayName: String?
    public var changes = PropertyChanges()
    public var pause: PauseChange?
    /// `{"system_paused_at": null}`: a tapline extension that clears a system pause.
    public var clearSystemPause = false
    public var destinationID: Int64?
    /// Why the pause or unpause is made (the console asks for one); recorded with its audit
    /// event, never on the source itself.
    public var reason: String?

    public init() {}

    /// A patch that changes nothing (`PUT {}`): the source is returned untouched.
    public var isEmpty: Bool {
        displayName == nil && changes.isEmpty && pause == nil && !clearSystemPause && destinationID == nil
    }
}
