import Foundation
import Hummingbird
import Mustache
import NIOCore

/// The console's templates and assets, compiled into the binary (`embedInCode`), so nothing is
/// shipped beside it and the pages served are always the ones in the repository.
///
/// Every value reaches a page through Mustache's `{{value}}`, which escapes HTML; the one
/// unescaped insertion is the layout's `{{{body}}}`, the page already rendered by a template.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    /// Changes with the assets' content, so a browser never keeps an old script or style.
    let assetVersion: String
    static let css = String(decoding: PackageResources.console_css, as: UTF8.self)
    static let script = String(decoding: PackageResources.console_js, as: UTF8.self)

    init() {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
            ("sources", PackageResources.sources_mustache), ("source", PackageResources.source_mustache),
            ("sourceform", PackageResources.sourceform_mustache), ("confirm", PackageResources.confirm_mustache),
            ("log", PackageResources.log_mustache), ("settings", PackageResources.settings_mustache),
            ("message", PackageResources.message_mustache),
        ]
        for (name, bytes) in templates {
            // The templates are part of the source tree and parsed by the tests; a broken one
            // is a build defect, not a runtime condition.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in PackageResources.console_css + PackageResources.console_js {
            hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211
        }
        assetVersion = String(hash, radix: 36)
    }

    /// `template` rendered with `model`, inside the layout.
    func page(_ template: String, _ model: Any, layout: LayoutModel) -> String {
        var layout = layout
        layout.body = library.render(model, withTemplate: template) ?? ""
        layout.assetVersion = assetVersion
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    /// A fragment of `template` alone (no layout).
    func fragment(_ template: String, _ model: Any) -> String {
        library.render(model, withTemplate: template) ?? ""
    }
}

/// What every page's frame shows: who is signed in, the header's health, the result of the
/// last action.
struct LayoutModel {
    var title: String
    var body = ""
    var assetVersion = ""
    var signedIn = false
    var actor = ""
    var readOnly = false
    var csrf = ""
    var flash: String?
    var healthOK = true
    var healthText = "healthy"
    var nodeName: String?
    /// The page refreshes itself from the live stream (`data-live`).
    var live = false
    var section = "sources"
    var onSources: Bool { section == "sources" }
    var onSettings: Bool { section == "settings" }
}

extension Response {
    /// A console page: HTML, never cached, never framed, no script but the console's own.
    static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        Console.secure(&headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.contentLength] = "0"
        Console.secure(&headers)
        return Response(status: .seeOther, headers: headers)
    }
}
