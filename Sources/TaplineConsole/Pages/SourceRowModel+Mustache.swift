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

extension Console.SourcesModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "rows": rows
        case "counts": counts
        case "states": states
        case "sorts": sorts
        case "search": search
        case "stateValue": stateValue
        case "sortValue": sortValue
        case "filterNote": filterNote
        case "matching": matching
        case "total": total
        case "page": page
        case "pageCount": pageCount
        case "previousPage": previousPage
        case "nextPage": nextPage
        case "canAct": canAct
        case "csrf": csrf
        case "back": back
        case "empty": empty
        case "noSourcesAtAll": noSourcesAtAll
        default: nil
        }
    }
}

extension Console.CountModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "label": label
        case "n": n
        case "href": href
        case "current": current
        default: nil
        }
    }
}

extension Console.OptionModel: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

extension Console.PageLink: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "label": label
        default: nil
        }
    }
}
