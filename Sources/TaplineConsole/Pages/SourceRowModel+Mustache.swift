import Mustache

// The list's per-row models answer the templates' lookups directly: through `Mirror`, each of
// a page's ~2,000 lookups reflected a whole model (about 1 ms a row with 50 rows a page).
// A name a model does not have answers `nil`, so the lookup goes on to the enclosing model, as
// it does through `Mirror`.

extension SourceRowModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "displayName": displayName
        case "name": name_
        case "type": type
        case "stateKey": stateKey
        case "stateLabel": stateLabel
        case "stateSymbol": stateSymbol
        case "systemPauseReason": systemPauseReason
        case "paused": paused
        case "isRunning": isRunning
        case "running": running
        case "last": last
        case "lastSuccess": lastSuccess
        case "next": next
        case "schedule": schedule
        case "canAct": canAct
        case "csrf": csrf
        case "back": back
        default: nil
        }
    }

    private var name_: String { self.name }
}

extension SourceRowModel.JobModel: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "started": started
        case "duration": duration
        case "resultKey": resultKey
        case "resultText": resultText
        case "symbol": symbol
        default: nil
        }
    }
}

extension ConsoleTime.Stamp: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "iso": iso
        case "text": text
        case "relative": relative
        default: nil
        }
    }
}
